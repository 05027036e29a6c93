export { WasmEngine, type WasmGuest, type WasmInstanceOptions } from "./engine/wasm.js";
export * from "./engine/engine.js";
export { QuickJsEngine, QuickJsGuest, QuickJsInstance, type QuickJsEngineOptions, type QuickJsInstanceOptions } from "./engine/quickjs.js";
