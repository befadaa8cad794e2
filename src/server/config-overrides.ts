// Command-line options that override config keys (`bufferevent serve --host --port --workers`),
// checked like the keys themselves, plus the rule that ties workers to Redis. The result is a new
// frozen config; an error is a UsageError (exit code 2) naming the option.
import { deepFreeze, hostOf, MAX_WORKERS, workersNeedRedis, type ServerConfig } from './config.ts';
import { integerIn, IssueList } from './config-checks.ts';
import { UsageError } from './errors.ts';

/** Option values as they come from the command line (strings), absent when not given. */
export interface ConfigOverrides {
  readonly host?: string;
  readonly port?: string;
  readonly workers?: string;
}

export function applyOverrides(config: ServerConfig, overrides: ConfigOverrides): ServerConfig {
  const issues = new IssueList();
  const host = overrides.host === undefined ? config.host : hostOf(issues, overrides.host, '--host');
  const port =
    overrides.port === undefined
      ? config.port
      : integerIn(issues, decimal(overrides.port), '--port', 0, 65535);
  const workers =
    overrides.workers === undefined
      ? config.workers
      : integerIn(issues, decimal(overrides.workers), '--workers', 1, MAX_WORKERS);
  if (overrides.workers !== undefined && workers !== undefined && workers > 1 && config.redis === null)
    issues.add('--workers', workersNeedRedis(workers));
  if (issues.issues.length > 0)
    throw new UsageError(issues.issues.map((issue) => `${issue.keyPath}: ${issue.message}`).join('; '));
  return deepFreeze({ ...config, host: host!, port: port!, workers: workers! });
}

/** A decimal integer's value, or the text itself (which integerIn then reports as it was typed). */
function decimal(text: string): number | string {
  return /^\d{1,10}$/.test(text) ? Number(text) : text;
}
