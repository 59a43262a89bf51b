// A real browser and a real shop for the dashboard's browser tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { servicePid } from '../../../runtime/test/support/service-pid.ts';
import { stopProcess } from '../../../runtime/test/support/stop-process.ts';
export { servicePid };

export const CHROMIUM = '/usr/bin/chromium';
export const CARROT = fileURLToPath(new URL('../../bin/carrot.js', import.meta.url));
export const SHOP_DIR = fileURLToPath(new URL('../../../../examples/shop', import.meta.url));

/**
 * Why the browser tests cannot run here, or undefined when they can. Under CI=true a
 * missing Chromium is a failure, not a skip.
 */
export function browserMissing(): string | undefined {
  if (existsSync(CHROMIUM)) return undefined;
  const reason = `no Chromium at ${CHROMIUM} (apt-get install chromium); the dashboard's browser tests are skipped`;
  if (process.env.CI === 'true') throw new Error(`${reason}, and CI=true requires them`);
  return reason;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu', '--disable-component-update', '--no-first-run'],
  });
}

export interface ShopWithDashboard {
  readonly gateway: string;
  readonly dashboard: string;
  readonly dataDir: string;
  output(): string;
  stop(): Promise<number | null>;
}

/** `carrot dev examples/shop` on free ports (gateway and dashboard) and a fresh data folder. */
export async function startShopWithDashboard(env: Record<string, string> = {}, timeoutMs = 75_000): Promise<ShopWithDashboard> {
  const dataDir = mkdtempSync(join(tmpdir(), 'carotene-dashboard-'));
  const child: ChildProcess = spawn(
    process.execPath,
    [CARROT, 'dev', SHOP_DIR, '--port', '0', '--dashboard-port', '0', '--data-dir', dataDir, '--no-typecheck'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1', ...env },
    },
  );
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const gateway = /^gateway {4}(http:\/\/\S+)$/m.exec(out)?.[1];
    const dashboard = /^dashboard {2}(http:\/\/\S+)$/m.exec(out)?.[1];
    if (gateway && dashboard && out.includes('Ctrl-C stops everything.')) {
      return {
        gateway,
        dashboard,
        dataDir,
        output: () => out,
        stop: () => stopProcess(child, exited),
      };
    }
    if (child.exitCode !== null) throw new Error(`carrot dev exited with ${child.exitCode}:\n${out}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the shop was not ready within ${timeoutMs} ms:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Where screenshots go when CAROTENE_DASHBOARD_SCREENSHOTS=1 (docs/images), else undefined. */
export function screenshotDir(): string | undefined {
  if (process.env.CAROTENE_DASHBOARD_SCREENSHOTS !== '1') return undefined;
  return fileURLToPath(new URL('../../../../docs/images', import.meta.url));
}
