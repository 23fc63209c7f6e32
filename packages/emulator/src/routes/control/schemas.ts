/** JSON-schema fragments the control API's bodies share. */
export const str = { type: "string", minLength: 1, maxLength: 2048 } as const;
export const strList = { type: "array", items: str, maxItems: 100 } as const;
/** Scopes as a list or one space-separated string, as Google takes them. */
export const scopeList = { anyOf: [strList, { type: "string", maxLength: 4096 }] } as const;
export const seconds = { type: "integer", minimum: 1, maximum: 10 ** 8 } as const;
