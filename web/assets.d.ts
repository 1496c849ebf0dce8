// Files the bundler imports as something other than TypeScript
// (server/frontend/build.go sets the loaders).

/** Python source, imported as text (run in the runtime worker). */
declare module "*.py" {
  const source: string;
  export default source;
}
