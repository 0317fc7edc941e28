// Builds qwen.wasm from plugin.js against schemas/plugin.wit (about 10 s, offline once
// `npm install` has run). The component gets no WASI feature it does not need.
import { componentize } from "@bytecodealliance/componentize-js";
import { writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const { component } = await componentize({
  sourcePath: here("plugin.js"),
  witPath: here("../../schemas/plugin.wit"),
  worldName: "compose-plugin",
  disableFeatures: ["random", "stdio", "clocks", "http", "fetch-event"],
});
await writeFile(here("qwen.wasm"), component);
console.log(`plugins/qwen-js/qwen.wasm (${component.length} bytes)`);
