import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

// Workspace packages resolve to their TypeScript sources through this export condition.
const conditions = ['@hordekit/source', ...defaultServerConditions];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // PostgreSQL and Redis for the tests that need them: CI's, or private instances started here.
    globalSetup: ['test/support/services-setup.ts'],
    // The JSON report is what `.ci/run` counts; the default reporter is for people.
    reporters: ['default', 'json'],
    outputFile: { json: '.vitest-results/results.json' },
  },
});
