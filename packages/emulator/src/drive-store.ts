import { createHash, randomBytes } from "node:crypto";

/** The app a Drive application data folder belongs to: one user and one OAuth client. */
export interface AppDataOwner {
  readonly sub: string;
  readonly clientId: string;
}

export const FOLDER_MIME_TYPE = "application/vnd.google-apps.folder";

/** Both names Google accepts for the folder itself: v3's alias and the one iOS samples use. */
export const APP_DATA_ALIASES: readonly string[] = ["appDataFolder", "appfolder"];

/** A file or folder inside an application data folder. Field names are ours (camelCase). */
export interface DriveFile {
  readonly id: string;
  name: string;
  mimeType: string;
  description: string | undefined;
  /** The folder it sits in: the application data folder's id, or a folder inside it. */
  parentId: string;
  content: Buffer;
  appProperties: Record<string, string>;
  properties: Record<string, string>;
  originalFilename: string | undefined;
  readonly createdTimeMs: number;
  modifiedTimeMs: number;
  version: number;
}

/** The application data folder itself. */
export interface AppDataFolder {
  readonly id: string;
  readonly createdTimeMs: number;
}

export interface NewDriveFile {
  name: string;
  mimeType: string;
  description?: string | undefined;
  parentId: string;
  content: Buffer;
  appProperties?: Record<string, string> | undefined;
  properties?: Record<string, string> | undefined;
  originalFilename?: string | undefined;
}

export type DriveFilePatch = Partial<
  Pick<
    DriveFile,
    | "name"
    | "mimeType"
    | "description"
    | "parentId"
    | "content"
    | "appProperties"
    | "properties"
    | "originalFilename"
  >
>;

/** A file as the state file keeps it: its content by reference (see `BlobRefs`). */
export type StoredDriveFile = Omit<DriveFile, "content"> & { content: string };

/** What {@link AppDataStore.export} writes: every folder with its files, in creation order. */
export interface AppDataSnapshot {
  spaces: Array<{ owner: AppDataOwner; folder: AppDataFolder; files: StoredDriveFile[] }>;
}

/** Stores binary content out of the JSON state and finds it again by the reference it gave. */
export interface BlobRefs {
  refOf(content: Buffer): string;
  contentOf(ref: string): Buffer;
}

interface Space {
  readonly folder: AppDataFolder;
  /** In creation order, which is the default listing order. */
  readonly files: Map<string, DriveFile>;
}

/**
 * In-memory application data folders, one per (user, client). Each app sees only its own folder:
 * every lookup goes through the owner, so another app's file id is simply not found. The folder
 * comes into being the first time it is touched, as Google creates it on first use.
 */
export class AppDataStore {
  private readonly spaces = new Map<string, Space & { owner: AppDataOwner }>();

  constructor(private readonly now: () => number) {}

  folder(owner: AppDataOwner): AppDataFolder {
    return this.space(owner).folder;
  }

  /** The folder's real id for an alias (`appDataFolder`, `appfolder`); other ids unchanged. */
  resolveId(owner: AppDataOwner, fileId: string): string {
    return APP_DATA_ALIASES.includes(fileId) ? this.folder(owner).id : fileId;
  }

  /** A file of this owner (never the folder itself), or undefined. */
  get(owner: AppDataOwner, fileId: string): DriveFile | undefined {
    return this.space(owner).files.get(fileId);
  }

  /** True when `folderId` is the application data folder or a folder inside it. */
  isFolder(owner: AppDataOwner, folderId: string): boolean {
    if (folderId === this.folder(owner).id) return true;
    return this.get(owner, folderId)?.mimeType === FOLDER_MIME_TYPE;
  }

  /** Every file and folder in the space, oldest first. */
  list(owner: AppDataOwner): DriveFile[] {
    return [...this.space(owner).files.values()];
  }

  create(owner: AppDataOwner, input: NewDriveFile): DriveFile {
    const nowMs = this.now();
    const file: DriveFile = {
      id: newFileId(),
      name: input.name,
      mimeType: input.mimeType,
      description: input.description,
      parentId: input.parentId,
      content: input.content,
      appProperties: { ...input.appProperties },
      properties: { ...input.properties },
      originalFilename: input.originalFilename,
      createdTimeMs: nowMs,
      modifiedTimeMs: nowMs,
      version: 1,
    };
    this.space(owner).files.set(file.id, file);
    return file;
  }

  update(owner: AppDataOwner, fileId: string, patch: DriveFilePatch): DriveFile | undefined {
    const file = this.get(owner, fileId);
    if (file === undefined) return undefined;
    for (const [key, value] of Object.entries(patch)) {
      if (value !== undefined) Object.assign(file, { [key]: value });
    }
    file.modifiedTimeMs = this.now();
    file.version += 1;
    return file;
  }

  /** Deletes a file, or a folder with everything under it. False when there was none. */
  delete(owner: AppDataOwner, fileId: string): boolean {
    const { files } = this.space(owner);
    if (!files.delete(fileId)) return false;
    for (const child of [...files.values()]) {
      if (child.parentId === fileId) this.delete(owner, child.id);
    }
    return true;
  }

  /** Every folder and file, with contents stored through `blobs`. */
  export(blobs: BlobRefs): AppDataSnapshot {
    return {
      spaces: [...this.spaces.values()].map((space) => ({
        owner: { sub: space.owner.sub, clientId: space.owner.clientId },
        folder: space.folder,
        files: [...space.files.values()].map((file) => ({
          ...file,
          content: blobs.refOf(file.content),
        })),
      })),
    };
  }

  /**
   * Replaces every folder and file with what {@link export} wrote.
   *
   * @throws TypeError when the snapshot is not shaped as `export` writes it.
   */
  import(snapshot: AppDataSnapshot, blobs: BlobRefs): void {
    if (!Array.isArray(snapshot.spaces)) throw new TypeError("drive.spaces is not a list");
    this.spaces.clear();
    for (const { owner, folder, files } of snapshot.spaces) {
      const restored = new Map<string, DriveFile>();
      for (const file of files) {
        restored.set(file.id, { ...file, content: blobs.contentOf(file.content) });
      }
      this.spaces.set(`${owner.sub} ${owner.clientId}`, { owner, folder, files: restored });
    }
  }

  private space(owner: AppDataOwner): Space {
    const key = `${owner.sub} ${owner.clientId}`;
    let space = this.spaces.get(key);
    if (space === undefined) {
      // Google's root-like folder ids start with "0A" and end in base64 of "ROOT".
      const id = `0A${randomBytes(12).toString("base64url")}Uk9PVA`;
      space = { owner, folder: { id, createdTimeMs: this.now() }, files: new Map() };
      this.spaces.set(key, space);
    }
    return space;
  }
}

/** Checksums Drive reports for binary content. */
export function checksums(content: Buffer): { md5: string; sha1: string; sha256: string } {
  const hex = (algorithm: string) => createHash(algorithm).update(content).digest("hex");
  return { md5: hex("md5"), sha1: hex("sha1"), sha256: hex("sha256") };
}

/** Drive file ids: 33 characters, starting with "1". */
function newFileId(): string {
  return `1${randomBytes(24).toString("base64url")}`;
}
