import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Emulator } from "../src/index.js";
import { control, exchangeCode, sdkSignIn, withEmulator } from "./helpers.js";

const APPDATA = "https://www.googleapis.com/auth/drive.appdata";
let google: Emulator;

beforeAll(async () => {
  google = await withEmulator();
});
afterAll(() => google.close());

describe("Drive's access_token query parameter", () => {
  it("takes the token from ?access_token= as Google does, and refuses a wrong one", async () => {
    const { serverAuthCode } = await sdkSignIn(google, {
      email: "query-token@example.com",
      scopes: [APPDATA],
    });
    const { body } = await exchangeCode(google, serverAuthCode);
    const folder = new URL(`${google.url}/drive/v3/files/appDataFolder`);
    folder.searchParams.set("fields", "id,name");
    folder.searchParams.set("access_token", body.access_token);
    const response = await fetch(folder);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ name: "Application Data" });

    folder.searchParams.set("access_token", "ya29.not-a-token");
    const refused = await fetch(folder);
    expect(refused.status).toBe(401);
    expect((await refused.json()).error.status).toBe("UNAUTHENTICATED");
  });
});

describe("a user made through the control API with a name", () => {
  it("gets given and family names split from the name, in the ID token and userinfo", async () => {
    const made = await control(google, "POST", "/emulator/users", {
      email: "ada.l@example.com",
      name: "Ada King Lovelace",
    });
    expect(made.body).toMatchObject({ givenName: "Ada", familyName: "King Lovelace" });
    const { idToken, serverAuthCode } = await sdkSignIn(google, { email: "ada.l@example.com" });
    expect(decodeJwt(idToken)).toMatchObject({
      name: "Ada King Lovelace",
      given_name: "Ada",
      family_name: "King Lovelace",
    });
    const { body } = await exchangeCode(google, serverAuthCode);
    const userinfo = await fetch(`${google.url}/v1/userinfo`, {
      headers: { authorization: `Bearer ${body.access_token}` },
    }).then((response) => response.json());
    expect(userinfo).toMatchObject({ given_name: "Ada", family_name: "King Lovelace" });
  });

  it("leaves the family name out for a one-word name, and keeps names given explicitly", async () => {
    await control(google, "POST", "/emulator/users", { email: "mono@example.com", name: "Cher" });
    const mono = decodeJwt((await sdkSignIn(google, { email: "mono@example.com" })).idToken);
    expect(mono).toMatchObject({ name: "Cher", given_name: "Cher" });
    expect(mono).not.toHaveProperty("family_name");

    const explicit = await control(google, "POST", "/emulator/users", {
      email: "explicit@example.com",
      name: "Grace Hopper",
      givenName: "Amazing",
      familyName: "Grace",
    });
    expect(explicit.body).toMatchObject({ givenName: "Amazing", familyName: "Grace" });
  });
});
