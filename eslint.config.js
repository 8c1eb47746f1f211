// Typed linting (strictTypeChecked) plus the import rules that keep server/ and training/ apart.
import tseslint from 'typescript-eslint';

const ortOnly = (allowed) => ({
  name: 'onnxruntime-node',
  message: `only ${allowed} may import onnxruntime-node`,
});

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'dist/',
      'runs/',
      'scripts/run-tests.mjs',
      'scripts/prune-server-deps.mjs',
      'eslint.config.js',
      'tests/fixtures/',
      'server/public/',
      'scripts/*.py',
      '.tmp/',
    ],
  },
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    files: ['server/**/*.ts'],
    ignores: ['server/inference/ort-runtime.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [ortOnly('server/inference/ort-runtime.ts')],
          patterns: [{ group: ['**/training/**'], message: 'server/ never imports training/; meet through models/' }],
        },
      ],
    },
  },
  {
    files: ['training/**/*.ts'],
    ignores: ['training/runtime/ort.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            ortOnly('training/runtime/ort.ts'),
            { name: 'protobufjs', message: 'only training/onnx/serialize.ts imports protobufjs' },
          ],
          patterns: [{ group: ['**/server/**', 'express', 'multer', 'prom-client'], message: 'training/ never imports the server stack' }],
        },
      ],
    },
  },
  {
    files: ['training/onnx/serialize.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [ortOnly('training/runtime/ort.ts')] }] },
  },
);
