// One style for the whole repository: neostandard (the Fastify organisation's), TypeScript included.
import neostandard, { resolveIgnoresFromGitignore } from 'neostandard'

export default [
  // src/cli/api-types.ts is generated (npm run api-types) in openapi-typescript's own layout; a test checks it instead.
  ...neostandard({ ts: true, ignores: [...resolveIgnoresFromGitignore(), 'dist/**', 'coverage/**', '.tap/**', 'src/cli/api-types.ts'] }),
  {
    rules: {
      // `void promise` is how a promise that is deliberately not awaited is marked (as typescript-eslint's
      // no-floating-promises asks); other uses of void stay errors.
      'no-void': ['error', { allowAsStatement: true }]
    }
  },
  {
    files: ['**/*.ts'],
    rules: {
      // TypeBox's idiom is a schema and its type under one name (`const X = Type.Object(...)`,
      // `type X = Static<typeof X>`); tsc itself refuses a name declared twice as the same kind.
      '@typescript-eslint/no-redeclare': 'off'
    }
  },
  {
    // The admin page's script runs in the browser.
    files: ['src/admin-page/**/*.js'],
    languageOptions: {
      globals: {
        document: 'readonly', window: 'readonly', fetch: 'readonly', localStorage: 'readonly', location: 'readonly', URLSearchParams: 'readonly', FormData: 'readonly', EventSource: 'readonly', CSS: 'readonly', DOMParser: 'readonly'
      }
    }
  }
]
