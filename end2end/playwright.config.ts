import { defineConfig } from '@playwright/test';

// The server is started by ../scripts/e2e.sh, which sets ALERTWIRE_E2E_URL.
const baseURL = process.env.ALERTWIRE_E2E_URL ?? 'http://127.0.0.1:3100';

export default defineConfig({
  testDir: './tests',
  // One database for the whole run, and the first test performs first-run setup.
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 30_000,
  expect: { timeout: 10_000 },
  reporter: [['list']],
  use: {
    baseURL,
    trace: 'off',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    },
  },
});
