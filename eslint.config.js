import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const coreBans = {
  'no-restricted-globals': [
    'error',
    { name: 'Date', message: 'The core has no clock: time arrives as tick().' },
    { name: 'setTimeout', message: 'The core has no timers: time arrives as tick().' },
    { name: 'setInterval', message: 'The core has no timers: time arrives as tick().' },
    { name: 'setImmediate', message: 'The core has no timers.' },
    { name: 'queueMicrotask', message: 'The core is synchronous.' },
    { name: 'console', message: 'The core logs through the injected tracer.' },
    { name: 'process', message: 'The core has no I/O.' },
    { name: 'Buffer', message: 'The core uses Uint8Array only.' },
  ],
  'no-restricted-properties': [
    'error',
    { object: 'Math', property: 'random', message: 'Randomness is injected (seeded).' },
  ],
  'no-restricted-imports': [
    'error',
    {
      patterns: [
        { group: ['node:*'], message: 'The core has no I/O.' },
        { regex: '^[^.]', message: 'The core imports no package, only its own modules.' },
      ],
    },
  ],
  'no-restricted-syntax': [
    'error',
    { selector: 'AwaitExpression', message: 'The core is synchronous.' },
    { selector: 'FunctionDeclaration[async=true]', message: 'The core is synchronous.' },
    { selector: 'ExportDefaultDeclaration', message: 'Use named exports.' },
  ],
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'data/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/**/*.ts', 'apps/**/*.ts', 'bench/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        { selector: 'ExportDefaultDeclaration', message: 'Use named exports.' },
      ],
    },
  },
  { files: ['src/core/**/*.ts'], ignores: ['src/core/**/*.test.ts'], rules: coreBans },
  { files: ['eslint.config.js'], ...tseslint.configs.disableTypeChecked },
  {
    // Plain Node scripts run by npm scripts, outside the TypeScript project.
    files: ['scripts/**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      parserOptions: { projectService: false },
      sourceType: 'module',
      globals: { console: 'readonly', process: 'readonly', URL: 'readonly' },
    },
  },
  {
    // The dashboard page: plain browser modules, shipped without a build step.
    files: ['apps/dashboard/public/**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      parserOptions: { projectService: false },
      sourceType: 'module',
      globals: {
        document: 'readonly',
        window: 'readonly',
        fetch: 'readonly',
        EventSource: 'readonly',
      },
    },
  },
);
