// Stand-in for react-devtools-core in the CLI bundle (see bundle-cache.mjs): ink loads it only when DEV=true.
export default { initialize() {}, connectToDevTools() {} };
