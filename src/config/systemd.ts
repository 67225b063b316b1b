// The [systemd] section: the unit restarted after each activation, if any, and whose manager runs it.
import * as z from 'zod/mini';
import { opt, text } from './shape.ts';

export interface SystemdConfig {
  unit?: string;
  scope: 'system' | 'user';
}

export const SystemdSchema = opt(z.strictObject({ unit: opt(text), scope: opt(z.enum(['system', 'user'])) }));

export function systemdOf(systemd: z.infer<typeof SystemdSchema>): SystemdConfig {
  return { ...(systemd?.unit ? { unit: systemd.unit } : {}), scope: systemd?.scope ?? 'system' };
}
