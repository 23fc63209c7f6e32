import { randomInt } from "node:crypto";
import type { EmulatorUser } from "./model.js";
import type { UserInput } from "./state-inputs.js";

/** The test Google Accounts, by `sub` and by email (which Google matches case-insensitively). */
export class UserDirectory {
  readonly bySub = new Map<string, EmulatorUser>();
  private readonly byEmail = new Map<string, EmulatorUser>();

  /** The account with this email, created when there is none. */
  create(input: UserInput): EmulatorUser {
    const existing = this.byEmail.get(input.email.toLowerCase());
    if (existing) return existing;
    const local = input.email.split("@")[0] ?? input.email;
    // A display name gives the given and family names, as a Google Account's name does.
    const [first, ...rest] = input.name?.trim().split(/\s+/) ?? [];
    const givenName = input.givenName ?? first ?? capitalize(local.split(/[._-]/)[0] ?? local);
    const familyName = input.familyName ?? (input.name === undefined ? "Tester" : rest.join(" "));
    const user: EmulatorUser = {
      // 21 digits, like Google's subject identifiers.
      sub: `1${String(randomInt(10 ** 9, 10 ** 10 - 1))}${String(randomInt(10 ** 9, 10 ** 10 - 1))}`,
      email: input.email,
      emailVerified: input.emailVerified ?? true,
      name: input.name ?? `${givenName} ${familyName}`,
      givenName,
      familyName,
      picture: input.picture ?? `https://lh3.googleusercontent.com/a/${local}=s96-c`,
      locale: input.locale ?? "en",
      hd: input.hd,
    };
    this.add(user);
    return user;
  }

  find(emailOrSub: string): EmulatorUser | undefined {
    return this.bySub.get(emailOrSub) ?? this.byEmail.get(emailOrSub.toLowerCase());
  }

  export(): EmulatorUser[] {
    return [...this.bySub.values()];
  }

  /** Replaces every account with the saved ones. */
  import(users: readonly EmulatorUser[]): void {
    this.bySub.clear();
    this.byEmail.clear();
    for (const user of users) this.add(user);
  }

  private add(user: EmulatorUser): void {
    this.bySub.set(user.sub, user);
    this.byEmail.set(user.email.toLowerCase(), user);
  }
}

function capitalize(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}
