// The guide's backend flow in Go with golang.org/x/oauth2, unchanged but for URLs: the
// emulator's token endpoint in place of Google's.
//
// Usage: guide_flow EMULATOR_URL CLIENT_ID CLIENT_SECRET CODE
//
// Exchanges the app's one-time code, reads the ID token the answer carries, writes and lists a
// file in Drive's appDataFolder with the library's HTTP client, refreshes the access token once
// it has expired, and exchanges the same code again (expecting *oauth2.RetrieveError with
// invalid_grant). Prints one JSON object.
package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

func call(client *http.Client, method, url, body string) (map[string]interface{}, error) {
	request, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	if body != "" {
		request.Header.Set("Content-Type", "application/json")
	}
	response, err := client.Do(request)
	if err != nil {
		return nil, err
	}
	defer response.Body.Close()
	text, err := io.ReadAll(response.Body)
	if err != nil {
		return nil, err
	}
	if response.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s %s: %d %s", method, url, response.StatusCode, text)
	}
	var parsed map[string]interface{}
	return parsed, json.Unmarshal(text, &parsed)
}

func claims(idToken string) (map[string]interface{}, error) {
	parts := strings.Split(idToken, ".")
	if len(parts) != 3 {
		return nil, errors.New("the id_token is not a JWS")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, err
	}
	var parsed map[string]interface{}
	return parsed, json.Unmarshal(payload, &parsed)
}

func run(emulator, clientID, clientSecret, code string) (map[string]interface{}, error) {
	ctx := context.Background()
	config := &oauth2.Config{
		ClientID:     clientID,
		ClientSecret: clientSecret,
		Endpoint: oauth2.Endpoint{
			AuthURL:  emulator + "/o/oauth2/v2/auth",
			TokenURL: emulator + "/token",
		},
	}
	token, err := config.Exchange(ctx, code)
	if err != nil {
		return nil, fmt.Errorf("exchange: %w", err)
	}
	idToken, _ := token.Extra("id_token").(string)
	identity, err := claims(idToken)
	if err != nil {
		return nil, err
	}

	client := config.Client(ctx, token)
	created, err := call(client, "POST", emulator+"/drive/v3/files?fields=id,name",
		`{"name":"go-guide.json","parents":["appDataFolder"]}`)
	if err != nil {
		return nil, err
	}
	listed, err := call(client, "GET", emulator+"/drive/v3/files?spaces=appDataFolder&fields=files(id,name)", "")
	if err != nil {
		return nil, err
	}

	// As if an hour had passed: the token source refreshes with the stored refresh token.
	expired := *token
	expired.Expiry = time.Now().Add(-time.Minute)
	refreshed, err := config.TokenSource(ctx, &expired).Token()
	if err != nil {
		return nil, fmt.Errorf("refresh: %w", err)
	}

	_, err = config.Exchange(ctx, code)
	var refusal *oauth2.RetrieveError
	if !errors.As(err, &refusal) {
		return nil, fmt.Errorf("a reused code was not refused with *oauth2.RetrieveError: %v", err)
	}
	// Debian's x/oauth2 predates RetrieveError.ErrorCode: the code is in the body Google sent.
	var reason struct {
		Error string `json:"error"`
	}
	if err := json.Unmarshal(refusal.Body, &reason); err != nil {
		return nil, fmt.Errorf("the refusal's body is not JSON: %s", refusal.Body)
	}
	return map[string]interface{}{
		"hasRefreshToken": token.RefreshToken != "",
		"sub":             identity["sub"],
		"email":           identity["email"],
		"aud":             identity["aud"],
		"created":         created["id"],
		"listed":          listed["files"],
		"refreshed":       refreshed.AccessToken != "" && refreshed.AccessToken != token.AccessToken,
		"reuseError":      reason.Error,
		"reuseStatus":     refusal.Response.StatusCode,
	}, nil
}

func main() {
	if len(os.Args) != 5 {
		fmt.Fprintln(os.Stderr, "usage: guide_flow EMULATOR_URL CLIENT_ID CLIENT_SECRET CODE")
		os.Exit(2)
	}
	result, err := run(os.Args[1], os.Args[2], os.Args[3], os.Args[4])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	json.NewEncoder(os.Stdout).Encode(result)
}
