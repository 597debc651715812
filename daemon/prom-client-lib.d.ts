// prom-client's default metrics one by one (its `lib/metrics/*.js`, CommonJS, untyped): daemon/metrics-defaults.ts
// registers all of them but the GC-duration observer, which it replaces.
declare module 'prom-client/lib/metrics/*.js' {
  const register: (registry: import('prom-client').Registry, config: { prefix?: string; eventLoopMonitoringPrecision?: number }) => void;
  export default register;
}
