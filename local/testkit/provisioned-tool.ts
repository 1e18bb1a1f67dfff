/**
 * A tool a suite's setup provisioned and named in a SHOP_* variable
 * (local/src/jest-setup/): its path, or an error saying how to run the suite.
 */
export function provisionedTool(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run these tests through \`npm test\` or \`npx jest\``);
  return value;
}
