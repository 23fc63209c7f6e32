// The product's tests drive the emulator with the emulator package's own test helpers.
export * from "../../../emulator/test/helpers.js";
