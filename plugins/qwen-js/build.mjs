// Builds qwen.wasm from plugin.js against interface 0.1.0 (crates/plugin-sdk/wit/since_v0.1.0), which
// it was written for and compose still loads (about 10 s, offline once `npm install` has run). The
// component gets no WASI feature it does not need.
import { componentize } from "@bytecodealliance/componentize-js";
import { writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const { component } = await componentize({
  sourcePath: here("plugin.js"),
  witPath: here("../../crates/plugin-sdk/wit/since_v0.1.0/plugin.wit"),
  worldName: "compose-plugin",
  disableFeatures: ["random", "stdio", "clocks", "http", "fetch-event"],
});
await writeFile(here("qwen.wasm"), component);
console.log(`plugins/qwen-js/qwen.wasm (${component.length} bytes)`);
