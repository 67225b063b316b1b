// The [systemd] section: the unit restarted after each activation, if any, and whose manager runs it.
import * as z from 'zod/mini';
import { opt, text } from './shape.ts';
import { lazily } from '../sys/lazy.ts';

export interface SystemdConfig {
  unit?: string;
  scope: 'system' | 'user';
}

/**
 * systemd's own rule for a unit name (characters, at most 255), and never a leading `-`: the name
 * is an argument of systemctl, where `-H host` would be an option. A service, so `app` or
 * `app.service` (or a template's `app@1`): another type has no WorkingDirectory to restart.
 */
const unitName = () => text.check(
  z.regex(/^(?![-.])[A-Za-z0-9:_.\\@-]{1,255}$/, 'expected a systemd unit name: up to 255 letters, digits and ":_.\\@-", not starting with "-" or "."'),
  z.refine((name) => !/\.(socket|target|timer|path|mount|automount|swap|slice|scope|device)$/.test(name), 'expected a service: mfd restarts the service (for a socket-activated app name app, not app.socket)'),
  // `app@` and `app@.service` name the template itself, which systemctl refuses to restart
  // ("missing the instance name"), and `@1` has no template: found out here, not after the swap.
  z.refine((name) => !/^@|@(\.service)?$/.test(name), 'expected a template\'s instance, as app@1 or app@1.service: a template (app@) itself cannot be restarted'),
);

export const SystemdSchema = lazily(() => opt(z.strictObject({ unit: opt(unitName()), scope: opt(z.enum(['system', 'user'])) })));

export function systemdOf(systemd: z.infer<ReturnType<typeof SystemdSchema>>): SystemdConfig {
  return { ...(systemd?.unit ? { unit: systemd.unit } : {}), scope: systemd?.scope ?? 'system' };
}
