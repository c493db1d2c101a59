import { test, expect, Page, Request } from '@playwright/test';
import { hydrated, signedInAsAdmin as signedIn } from './support';

// The hydrate bundle is split by page (app/src/routes.rs, scripts/build.sh): a page
// loads the main module and its own pack (the page's chunks in one file), and every
// page hydrates once, on a first visit and after a client-side navigation.

/** Every `.wasm` file the page fetches from now on. */
function wasmFetched(page: Page): string[] {
  const seen: string[] = [];
  page.on('request', (request: Request) => {
    const path = new URL(request.url()).pathname;
    if (path.endsWith('.wasm')) seen.push(path);
  });
  return seen;
}

test('the Destinations list loads the main module and its own pack', async ({ page }) => {
  await signedIn(page);
  const wasm = wasmFetched(page);
  await page.goto('/alerts/destinations');
  await hydrated(page);
  expect(wasm).toHaveLength(2);
  expect(wasm).toContainEqual(expect.stringMatching(/^\/pkg\/alertwire\.[0-9a-f]{16}\.wasm$/));
  expect(wasm).toContainEqual(expect.stringMatching(/^\/pkg\/pack_destination_list\.[0-9a-f]{16}\.wasm$/));
  await expect(page.locator('link[rel="preload"][href*="/pkg/pack_"]')).toHaveCount(1);
});

test('signed out, the sign-in page loads the main module and its own pack, and signs in', async ({ page }) => {
  const wasm = wasmFetched(page);
  await page.goto('/login');
  await hydrated(page);
  expect(wasm).toHaveLength(2);
  expect(wasm).toContainEqual(expect.stringMatching(/^\/pkg\/pack_login\.[0-9a-f]{16}\.wasm$/));
  await signedIn(page);
  // The page sign-in lands on hydrates with its own pack.
  await hydrated(page);
  expect(wasm).toContainEqual(expect.stringMatching(/^\/pkg\/pack_rules\.[0-9a-f]{16}\.wasm$/));
});

test("a page of another group preloads its group's pack and hydrates once", async ({ page, request }) => {
  await signedIn(page);
  const wasm = wasmFetched(page);
  await page.goto('/settings/api-keys');
  await hydrated(page);

  const preloads = await page
    .locator('link[rel="preload"][type="application/wasm"]')
    .evaluateAll((links) => links.map((l) => new URL((l as HTMLLinkElement).href).pathname));
  const packs = preloads.filter((p) => /\/pkg\/pack_[a-z_]+\.[0-9a-f]{16}\.wasm$/.test(p));
  expect(packs).toHaveLength(1);
  expect(packs[0]).toContain('/pack_api_keys.');
  // The main module and the group's pack: one request for the group's code.
  expect(wasm).toHaveLength(2);
  for (const pack of packs) {
    expect(wasm).toContain(pack);
    const served = await request.get(pack);
    expect(served.status()).toBe(200);
    expect(served.headers()['content-type']).toBe('application/wasm');
    expect(served.headers()['cache-control']).toContain('immutable');
  }

  // Hydrated, not drawn a second time beside the server's copy, and working.
  await expect(page.getByRole('button', { name: 'Create API key' })).toHaveCount(1);
  await page.getByLabel('Name').fill('Bundle e2e');
  await page.getByRole('button', { name: 'Create API key' }).click();
  await expect(page.locator('#new-api-key')).toHaveText(/^aw_/);
});

test('client-side visits to pages not seen yet fetch their own packs and draw each page once', async ({ page }) => {
  await signedIn(page);
  await page.goto('/alerts/destinations');
  await hydrated(page);
  const wasm = wasmFetched(page);
  await page.evaluate(() => ((window as any).__before_navigation = true));
  await page.getByRole('link', { name: 'Settings' }).click();
  await expect(page).toHaveURL(/\/settings$/);
  await expect(page.getByRole('heading', { name: 'Change password' })).toHaveCount(1);
  expect(wasm.filter((p) => p.includes('/pack_account.'))).toHaveLength(1);
  // A third page, whose shared chunks the two packs before brought already, works too.
  await page.getByRole('link', { name: 'API keys' }).click();
  await expect(page.getByRole('button', { name: 'Create API key' })).toHaveCount(1);
  expect(wasm.filter((p) => p.includes('/pack_api_keys.'))).toHaveLength(1);
  await page.getByLabel('Name').fill('Bundle e2e, third page');
  await page.getByRole('button', { name: 'Create API key' }).click();
  await expect(page.locator('#new-api-key')).toHaveText(/^aw_/);
  // The router navigated in place: the page was never loaded again.
  expect(await page.evaluate(() => (window as any).__before_navigation)).toBe(true);
});

test('a pack lost on the way is asked for again and the page still opens in place', async ({ page }) => {
  await signedIn(page);
  await page.goto('/alerts/destinations');
  await hydrated(page);
  let asked = 0;
  // The first request for the page's pack fails as a dropped connection would.
  await page.route(/\/pkg\/pack_account\./, (route) => (asked++ === 0 ? route.abort('connectionreset') : route.continue()));
  await page.evaluate(() => ((window as any).__before_navigation = true));
  await page.getByRole('link', { name: 'Settings' }).click();
  await expect(page).toHaveURL(/\/settings$/);
  await expect(page.getByRole('heading', { name: 'Change password' })).toHaveCount(1);
  expect(asked).toBe(2);
  expect(await page.evaluate(() => (window as any).__before_navigation)).toBe(true);
});

test('a page whose pack is gone (an upgrade since the tab opened) loads in full, and the app keeps working', async ({ page }) => {
  await signedIn(page);
  await page.goto('/alerts/destinations');
  await hydrated(page);
  let asked = 0;
  // The open tab asks for the pack of the version it was loaded with, which is gone: 404 to
  // each of the loader's three requests. The full load that follows gets its own.
  await page.route(/\/pkg\/pack_account\./, (route) =>
    asked++ < 3 ? route.fulfill({ status: 404, body: 'gone' }) : route.continue(),
  );
  await page.evaluate(() => ((window as any).__before_navigation = true));
  await page.getByRole('link', { name: 'Settings' }).click();
  await expect(page).toHaveURL(/\/settings$/);
  await expect(page.getByRole('heading', { name: 'Change password' })).toHaveCount(1);
  await hydrated(page);
  expect(asked).toBeGreaterThanOrEqual(4);
  // Loaded in full: the document the click started in is gone.
  expect(await page.evaluate(() => (window as any).__before_navigation)).toBeUndefined();
  // The app did not stop: the next page opens in place and works.
  await page.evaluate(() => ((window as any).__after_full_load = true));
  await page.getByRole('link', { name: 'API keys' }).click();
  await page.getByLabel('Name').fill('Bundle e2e, after a full load');
  await page.getByRole('button', { name: 'Create API key' }).click();
  await expect(page.locator('#new-api-key')).toHaveText(/^aw_/);
  expect(await page.evaluate(() => (window as any).__after_full_load)).toBe(true);
});

test('a first visit whose pack never arrives is loaded once more, then stays as the server sent it', async ({ page }) => {
  await signedIn(page);
  await page.route(/\/pkg\/pack_api_keys\./, (route) => route.fulfill({ status: 404, body: 'gone' }));
  let loads = 0;
  page.on('load', () => loads++);
  await page.goto('/settings/api-keys');
  await expect.poll(() => loads, { timeout: 15_000 }).toBe(2);
  // Three more requests of the second load's loader (300 and 600 ms apart) and time to spare:
  // no third load follows.
  await page.waitForTimeout(3_000);
  expect(loads).toBe(2);
  // The page works as it does without JavaScript.
  await page.getByLabel('Name').fill('Bundle e2e, code never arrived');
  await page.getByRole('button', { name: 'Create API key' }).click();
  await expect(page.locator('#new-api-key')).toHaveText(/^aw_/);
});

test.describe('with JavaScript disabled', () => {
  test.use({ javaScriptEnabled: false });

  test('a page of a split group is whole as the server sends it', async ({ page }) => {
    await signedIn(page);
    await page.goto('/settings/api-keys');
    await expect(page.getByRole('button', { name: 'Create API key' })).toHaveCount(1);
    await page.getByLabel('Name').fill('Bundle e2e, no script');
    await page.getByRole('button', { name: 'Create API key' }).click();
    await expect(page.locator('#new-api-key')).toHaveText(/^aw_/);
  });
});
