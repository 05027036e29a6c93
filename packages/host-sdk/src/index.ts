export {};
export { WasmEngine, type WasmGuest, type WasmInstanceOptions } from "./engine/wasm.js";
