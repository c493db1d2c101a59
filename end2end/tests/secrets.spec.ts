import { test, expect, Page } from '@playwright/test';
import { hydrated, signedInAsAdmin as signedIn } from './support';

// Stored credentials stay with their endpoint, and secret headers are never shown again.
test.describe.configure({ mode: 'serial' });

const receiver = process.env.ALERTWIRE_E2E_RECEIVER ?? '';
// The failing receiver listens on another port: another origin for the stored token.
const otherHost = process.env.ALERTWIRE_E2E_FAILING_RECEIVER ?? '';

async function createSecured(page: Page, name: string) {
  await page.goto('/alerts/destinations/new/webhook');
  await hydrated(page);
  await page.getByLabel('Destination Name').fill(name);
  await page.getByLabel('URL').fill(receiver);
  await page.getByRole('radio', { name: 'Bearer token' }).check();
  await page.getByLabel('Token', { exact: true }).fill('stored-e2e-token');
  await page.getByRole('button', { name: 'Add header' }).click();
  await page.getByLabel('Header 1 name').fill('X-Session');
  await page.getByLabel('Header 1 value').fill('hush-e2e-value');
  await page.locator('#header-0-secret').check();
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page).toHaveURL(/\/alerts\/destinations\/\d+$/);
}

test('a secret header is masked, and a new host must be given the token again', async ({ page }) => {
  test.skip(!receiver || !otherHost, 'needs the receivers started by scripts/e2e.sh');
  await signedIn(page);
  await createSecured(page, 'Secured hook');
  const url = page.url();

  // The saved page never carries the secret value, in the form or in the data it hydrates from.
  await page.goto(url);
  await hydrated(page);
  expect(await page.content()).not.toContain('hush-e2e-value');
  await expect(page.getByLabel('Header 1 name')).toHaveValue('x-session');
  await expect(page.getByLabel('Header 1 value')).toHaveValue('');
  await expect(page.getByLabel('Header 1 value')).toHaveAttribute('placeholder', 'Stored: leave empty to keep');
  await expect(page.locator('#header-0-secret')).toBeChecked();

  // Same URL: the stored token and header are used.
  await page.getByRole('button', { name: 'Send Test Alert' }).click();
  const report = page.getByTestId('test-report');
  await expect(report).toContainText('Status: 200 OK');
  await expect(report).not.toContainText('hush-e2e-value');
  await expect(report).not.toContainText('stored-e2e-token');

  // Another origin: nothing stored goes along; the form asks for it again.
  await page.getByLabel('URL').fill(otherHost);
  await page.getByRole('button', { name: 'Send Test Alert' }).click();
  await expect(page.getByText(/Enter the bearer token again/)).toBeVisible();
  await expect(page.getByText(/Enter the value of X-Session again|Enter the value of x-session again/)).toBeVisible();
});

test.describe('with JavaScript disabled', () => {
  test.use({ javaScriptEnabled: false });

  test('the re-entry prompt comes back on the reloaded page', async ({ page }) => {
    test.skip(!receiver || !otherHost, 'needs the receivers started by scripts/e2e.sh');
    await signedIn(page);
    await page.goto('/alerts/destinations');
    await page.getByRole('link', { name: 'Secured hook' }).click();
    await expect(page.getByLabel('Header 1 value')).toHaveValue('');
    expect(await page.content()).not.toContain('hush-e2e-value');
    await page.getByLabel('URL').fill(otherHost);
    await page.getByRole('button', { name: 'Send Test Alert' }).click();
    await expect(page.getByText(/Enter the bearer token again/)).toBeVisible();
    await expect(page.getByLabel('URL')).toHaveValue(otherHost);
  });
});
