// A Go backend's Google client, unchanged but for the token URL: Steward's.
//
// Usage: steward_backend MODE STEWARD_URL API_KEY EMULATOR_URL SUB
//
// golang.org/x/oauth2 refreshes the user's token at Steward's /oauth2/token (the refresh token
// is the user's sub, the client secret an API key); its HTTP client then calls Drive's
// appDataFolder at the emulator. Modes: drive, concurrent (two token sources refreshed at once,
// in two goroutines), revoked (expects *oauth2.RetrieveError). Prints one JSON object.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"

	"golang.org/x/oauth2"
)

func tokenSource(steward, key, sub string) oauth2.TokenSource {
	config := &oauth2.Config{
		ClientID:     "steward",
		ClientSecret: key,
		Endpoint:     oauth2.Endpoint{TokenURL: steward + "/oauth2/token"},
	}
	return config.TokenSource(context.Background(), &oauth2.Token{RefreshToken: sub})
}

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

func drive(steward, key, emulator, sub string) (interface{}, error) {
	client := oauth2.NewClient(context.Background(), tokenSource(steward, key, sub))
	created, err := call(client, "POST", emulator+"/drive/v3/files?fields=id,name",
		`{"name":"go.json","parents":["appDataFolder"]}`)
	if err != nil {
		return nil, err
	}
	listed, err := call(client, "GET",
		emulator+"/drive/v3/files?spaces=appDataFolder&fields=files(id,name)", "")
	if err != nil {
		return nil, err
	}
	return map[string]interface{}{"created": created, "listed": listed}, nil
}

func concurrent(steward, key, sub string) (interface{}, error) {
	tokens := make([]string, 2)
	failures := make([]error, 2)
	var group sync.WaitGroup
	for i := range tokens {
		group.Add(1)
		go func(i int) {
			defer group.Done()
			token, err := tokenSource(steward, key, sub).Token()
			if err != nil {
				failures[i] = err
				return
			}
			tokens[i] = token.AccessToken
		}(i)
	}
	group.Wait()
	for _, failure := range failures {
		if failure != nil {
			return nil, failure
		}
	}
	return map[string]interface{}{"tokens": tokens}, nil
}

func revoked(steward, key, sub string) (interface{}, error) {
	_, err := tokenSource(steward, key, sub).Token()
	var retrieve *oauth2.RetrieveError
	if !errors.As(err, &retrieve) {
		return map[string]interface{}{"error": fmt.Sprint(err)}, nil
	}
	return map[string]interface{}{
		"error":  fmt.Sprintf("%T", retrieve),
		"status": retrieve.Response.StatusCode,
		"body":   string(retrieve.Body),
	}, nil
}

func main() {
	mode, steward, key, emulator, sub := os.Args[1], os.Args[2], os.Args[3], os.Args[4], os.Args[5]
	var result interface{}
	var err error
	switch mode {
	case "drive":
		result, err = drive(steward, key, emulator, sub)
	case "concurrent":
		result, err = concurrent(steward, key, sub)
	case "revoked":
		result, err = revoked(steward, key, sub)
	default:
		err = fmt.Errorf("unknown mode %q", mode)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	json.NewEncoder(os.Stdout).Encode(result)
}
