import { expect, Page } from '@playwright/test';

/** The admin accounts.spec.ts creates on the setup page. */
export const admin = { email: 'admin@example.com', password: 'correct horse battery' };

/** Waits until the WASM bundle has hydrated the page. */
export async function hydrated(page: Page) {
  await page.waitForFunction(() => (window as any).__alertwire_hydrated === true);
}

/** Signs in as the admin and lands on the Alerts area. */
export async function signedInAsAdmin(page: Page) {
  await page.goto('/login');
  await page.getByLabel('Email').fill(admin.email);
  await page.getByLabel('Password').fill(admin.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/alerts$/);
}
