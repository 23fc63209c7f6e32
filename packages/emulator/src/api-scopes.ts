/** The scopes each API the emulator serves asks for: read by its routes and its discovery documents. */

const SCOPE = "https://www.googleapis.com/auth/";
/** The only scope that reaches the application data folder; `drive` alone does not. */
export const DRIVE_APPDATA_SCOPE = `${SCOPE}drive.appdata`;
export const DRIVE_FULL_SCOPE = `${SCOPE}drive`;
export const DRIVE_FILE_SCOPE = `${SCOPE}drive.file`;

/** The scopes Drive v3's discovery document lists for each method the emulator serves. */
export const DRIVE_METHOD_SCOPES: Readonly<Record<"read" | "write" | "update", readonly string[]>> =
  {
    read: [
      DRIVE_FULL_SCOPE,
      DRIVE_APPDATA_SCOPE,
      DRIVE_FILE_SCOPE,
      `${SCOPE}drive.metadata`,
      `${SCOPE}drive.metadata.readonly`,
      `${SCOPE}drive.photos.readonly`,
      `${SCOPE}drive.readonly`,
    ],
    write: [DRIVE_FULL_SCOPE, DRIVE_APPDATA_SCOPE, DRIVE_FILE_SCOPE],
    update: [
      DRIVE_FULL_SCOPE,
      DRIVE_APPDATA_SCOPE,
      DRIVE_FILE_SCOPE,
      `${SCOPE}drive.metadata`,
      `${SCOPE}drive.scripts`,
    ],
  };

const PHOTOS_SCOPE = `${SCOPE}photoslibrary`;
/**
 * The Library API scopes left after 31 March 2025: `appendonly` uploads and creates; reading
 * (only what the app created) needs `readonly.appcreateddata` or `edit.appcreateddata`.
 */
export const PHOTOS_SCOPES = {
  append: [`${PHOTOS_SCOPE}.appendonly`],
  read: [`${PHOTOS_SCOPE}.readonly.appcreateddata`, `${PHOTOS_SCOPE}.edit.appcreateddata`],
} as const;
