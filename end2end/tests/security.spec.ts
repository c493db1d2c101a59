import { test, expect, Page } from '@playwright/test';
import { admin, hydrated, signedInAsAdmin as signedIn } from './support';

// Runs after accounts.spec.ts (files run in name order with one worker): the admin exists.
test.describe.configure({ mode: 'serial' });

const receiver = process.env.ALERTWIRE_E2E_RECEIVER ?? '';

/** Everything the page reports that a Content-Security-Policy refused, across navigations. */
async function watchPolicy(page: Page) {
  const violations: string[] = [];
  const refusals: string[] = [];
  const pkgResponses: { url: string; nosniff: boolean }[] = [];
  await page.exposeFunction('__alertwireViolation', (v: string) => violations.push(v));
  // Before any script of the page runs, on every document.
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      (window as any).__alertwireViolation(
        `${e.violatedDirective} refused ${e.blockedURI || 'inline'} at ${e.sourceFile}:${e.lineNumber}`,
      );
    });
  });
  page.on('console', (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) refusals.push(message.text());
  });
  page.on('pageerror', (error) => refusals.push(`page error: ${error.message}`));
  page.on('response', (response) => {
    if (new URL(response.url()).pathname.startsWith('/pkg/')) {
      pkgResponses.push({ url: response.url(), nosniff: response.headers()['x-content-type-options'] === 'nosniff' });
    }
  });
  return { violations, refusals, pkgResponses };
}

/** Opens `path` and waits for the WASM to hydrate it (which needs the policy's nonce and 'wasm-unsafe-eval'). */
async function openHydrated(page: Page, path: string) {
  const response = await page.goto(path);
  expect(response?.status(), path).toBe(200);
  await hydrated(page);
}

test('the hydrated pages work under the Content-Security-Policy, with no violation', async ({ page }) => {
  test.skip(!receiver, 'needs the receivers started by scripts/e2e.sh');
  const seen = await watchPolicy(page);

  const login = await page.goto('/login');
  const policy = login!.headers()['content-security-policy'];
  expect(policy).toMatch(/script-src 'self' 'nonce-[\w-]+' 'wasm-unsafe-eval'/);
  expect(policy).toContain("frame-ancestors 'none'");
  expect(policy).not.toContain('unsafe-inline');
  await hydrated(page);
  await signedIn(page);

  for (const path of [
    '/alerts/rules',
    '/alerts/rules/new',
    '/alerts/destinations',
    '/alerts/destinations/new',
    '/alerts/deliveries',
    '/alerts/deliveries?view=alerts',
    '/settings/account',
    '/settings/users',
    '/settings/api-keys',
    '/settings/notifications',
    '/settings/audit-log',
  ]) {
    await openHydrated(page, path);
  }

  // The tabs navigate on the client once hydrated.
  const tabs = page.getByRole('navigation', { name: 'Alerts' });
  await openHydrated(page, '/alerts/rules');
  await tabs.getByRole('link', { name: 'Destinations' }).click();
  await expect(page).toHaveURL(/\/alerts\/destinations$/);

  // The wizard: actions that need JavaScript work without a reload.
  await openHydrated(page, '/alerts/destinations/new/webhook');
  await page.evaluate(() => ((window as any).__samePage = true));
  await page.getByRole('button', { name: 'Add header' }).click();
  await expect(page.getByLabel('Header 1 name')).toBeVisible();
  await page.getByLabel('Destination Name').fill('Policy check');
  await page.getByLabel('URL').fill(receiver);
  await page.getByRole('button', { name: 'Send Test Alert' }).click();
  await expect(page.getByTestId('test-report')).toContainText('Status: 200 OK');
  expect(await page.evaluate(() => (window as any).__samePage)).toBe(true);

  // Save, then the destination's own page.
  await page.getByLabel('Header 1 name').fill('X-Policy');
  await page.getByLabel('Header 1 value').fill('checked');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page).toHaveURL(/\/alerts\/destinations\/\d+$/);
  await expect(page.getByTestId('signing-secret')).toContainText('whsec_');
  await openHydrated(page, new URL(page.url()).pathname);
  await expect(page.getByRole('heading', { name: 'Policy check' })).toBeVisible();

  expect(seen.violations).toEqual([]);
  expect(seen.refusals).toEqual([]);
  expect(seen.pkgResponses.length).toBeGreaterThan(0);
  expect(seen.pkgResponses.filter((r) => !r.nosniff)).toEqual([]);
});

test.describe('with JavaScript disabled', () => {
  test.use({ javaScriptEnabled: false });

  test("plain form posts are allowed by the policy's form-action", async ({ page }) => {
    const login = await page.goto('/login');
    expect(login!.headers()['content-security-policy']).toContain("form-action 'self'");
    expect(login!.headers()['x-frame-options']).toBe('DENY');
    await page.getByLabel('Email').fill(admin.email);
    await page.getByLabel('Password').fill(admin.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page).toHaveURL(/\/alerts$/);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect(page).toHaveURL(/\/login$/);
  });
});
