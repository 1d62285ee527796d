/** Jest on TypeScript sources through SWC (type checking is `tsc -b`). */
export default {
  testEnvironment: 'node',
  testEnvironmentOptions: { customExportConditions: ['source', 'node', 'node-addons'] },
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' } }],
  },
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
    '^lodash-es$': 'lodash',
  },
  testMatch: ['<rootDir>/packages/*/test/**/*.test.ts', '<rootDir>/tests/**/*.test.ts'],
  testTimeout: 120000,
};
