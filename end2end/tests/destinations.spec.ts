import { test, expect, Page } from '@playwright/test';
import { hydrated, signedInAsAdmin as signedIn } from './support';

// Runs after accounts.spec.ts (files run in name order with one worker): the admin exists.
test.describe.configure({ mode: 'serial' });

const receiver = process.env.ALERTWIRE_E2E_RECEIVER ?? '';
const failing = process.env.ALERTWIRE_E2E_FAILING_RECEIVER ?? '';

async function openWizard(page: Page) {
  await page.getByRole('link', { name: 'Alerts' }).click();
  await page.getByRole('navigation', { name: 'Alerts' }).getByRole('link', { name: 'Destinations' }).click();
  await page.getByRole('link', { name: 'Add Destination' }).click();
  await page.getByRole('link', { name: /Webhook/ }).click();
  await expect(page.getByRole('heading', { name: 'Configure the webhook' })).toBeVisible();
}

test('the whole wizard, from the Alerts link to a saved destination', async ({ page }) => {
  test.skip(!receiver, 'needs the receivers started by scripts/e2e.sh');
  await signedIn(page);
  await hydrated(page);
  await openWizard(page);

  await page.getByLabel('Destination Name').fill('Internal Alerting System');
  await page.getByLabel('URL').fill(failing);
  await page.getByRole('radio', { name: 'Bearer token' }).check();
  await page.getByLabel('Token', { exact: true }).fill('e2e-token');
  await page.getByRole('button', { name: 'Add header' }).click();
  await page.getByLabel('Header 1 name').fill('X-Team');
  await page.getByLabel('Header 1 value').fill('data');

  // A failing endpoint: the failure and the documented fix, without a reload.
  await page.getByRole('button', { name: 'Send Test Alert' }).click();
  const report = page.getByTestId('test-report');
  await expect(report).toContainText('Status: 401 Unauthorized');
  await expect(report).toContainText('Verify the token/API key is correct');
  await expect(report).toContainText('Check the header name matches');

  // A working one: status and response time.
  await page.getByLabel('URL').fill(receiver);
  await page.getByRole('button', { name: 'Send Test Alert' }).click();
  await expect(report).toContainText('Status: 200 OK');
  await expect(report).toContainText(/Response time: \d+ms/);
  await expect(report).toContainText(`POST ${receiver}`);

  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page).toHaveURL(/\/alerts\/destinations\/\d+$/);
  await expect(page.getByTestId('signing-secret')).toContainText('whsec_');
  await expect(page.getByText('Verify this signature in Python')).toBeVisible();

  await page.goto('/alerts/destinations');
  const link = page.getByRole('link', { name: 'Internal Alerting System' });
  await expect(link).toBeVisible();
  // Other specs add destinations on localhost too: look in this one's row.
  await expect(page.getByRole('row').filter({ has: link }).getByRole('cell', { name: 'localhost' })).toBeVisible();
});

test.describe('with JavaScript disabled', () => {
  test.use({ javaScriptEnabled: false });

  test('the wizard works with plain form posts', async ({ page }) => {
    test.skip(!receiver, 'needs the receivers started by scripts/e2e.sh');
    await signedIn(page);
    await page.goto('/alerts/destinations/new/webhook');
    await page.getByLabel('Destination Name').fill('No-script hook');
    await page.getByLabel('URL').fill('http://insecure.example.com/');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect(page.locator('#url-error')).toContainText('Webhook URLs must be HTTPS');
    await expect(page.getByLabel('Destination Name')).toHaveValue('No-script hook');

    await page.getByLabel('URL').fill(receiver);
    await page.getByRole('button', { name: 'Send Test Alert' }).click();
    await expect(page.getByTestId('test-report')).toContainText('Status: 200 OK');
    await expect(page.getByLabel('URL')).toHaveValue(receiver);

    await page.getByRole('button', { name: 'Save' }).click();
    await expect(page).toHaveURL(/\/alerts\/destinations\/\d+$/);
    await expect(page.getByTestId('signing-secret')).toContainText('whsec_');
  });
});
