/**
 * The run registry: every `gzh run` / `gzh compare` is one row in a SQLite file (by default
 * runs/registry.sqlite) holding its config and hash, git commit, seed, backend, per-phase
 * durations, metrics, artifact paths and status. A run whose process died without finishing
 * (crash, kill -9, power loss) is shown as `interrupted` and can be resumed.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { CorruptArtifactError } from '../errors.js';
import { defaultRunsDir } from './config.js';
import { InputError } from '../errors.js';

/** Where a run stands; a `running` run whose process is gone shows as interrupted. */
export type RunStatus = 'running' | 'completed' | 'failed' | 'interrupted';
/** `gzh run` or `gzh compare`. */
export type RunKind = 'run' | 'compare';

export const RUN_STATUSES: readonly RunStatus[] = ['running', 'completed', 'failed', 'interrupted'];

/** Headline numbers per variant (the registry keeps whatever the runner stores under `metrics`). */
export type RunMetrics = Record<string, unknown>;

/** A run as the registry records it. */
export interface RunRecord {
  /** Run id: `<yyyymmdd-hhmmss>-<name>-<4 hex>`. */
  readonly id: string;
  /** Experiment name. */
  readonly name: string;
  /** `run` or `compare`. */
  readonly kind: RunKind;
  /** The config file, when read from one. */
  readonly configPath: string | null;
  /** The validated config (defaults filled) as stored. */
  readonly config: unknown;
  /** sha256 of the resolved experiment (`Experiment.hash`). */
  readonly configHash: string;
  /** Git commit of the code that ran, when known. */
  readonly gitCommit: string | null;
  /** The experiment seed. */
  readonly seed: number;
  /** Compute backend used. */
  readonly backend: string | null;
  /** Where the run stands. */
  readonly status: RunStatus;
  /** Process id of the process running it. */
  readonly pid: number | null;
  /** Host name of the machine running it. */
  readonly host: string | null;
  /** ISO timestamps. */
  readonly startedAt: string;
  /** ISO time the run ended, or null while it runs. */
  readonly finishedAt: string | null;
  /** Phase name → seconds (a phase repeated on resume accumulates). */
  readonly phases: Record<string, number>;
  /** Headline numbers per variant. */
  readonly metrics: RunMetrics;
  /** Artifact name → absolute path. */
  readonly artifacts: Record<string, string>;
  /** Runner progress used to resume (completed variants, checkpoints …). */
  readonly state: Record<string, unknown>;
  /** The run's folder. */
  readonly outputDir: string | null;
  /** The error a failed run ended with. */
  readonly error: string | null;
}

/** What `RunRegistry.create` records about a new run. */
export interface NewRun {
  /** Experiment name. */
  readonly name: string;
  /** `run` or `compare`. */
  readonly kind: RunKind;
  /** The config file, when read from one. */
  readonly configPath?: string;
  /** The validated config (defaults filled). */
  readonly config: unknown;
  /** sha256 of the resolved experiment. */
  readonly configHash: string;
  /** The experiment seed. */
  readonly seed: number;
  /** Compute backend. */
  readonly backend?: string;
  /** Git commit of the code, when known. */
  readonly gitCommit?: string | null;
  /** The run's folder. */
  readonly outputDir?: string;
  /** Fixed id (tests); by default `<yyyymmdd-hhmmss>-<name>-<4 hex>`. */
  readonly id?: string;
}

/** Filters of `RunRegistry.list`. */
export interface ListOptions {
  /** At most this many runs, newest first. */
  readonly limit?: number;
  /** Only runs with this status. */
  readonly status?: RunStatus;
  /** Only runs of this experiment name. */
  readonly name?: string;
}

interface Row {
  id: string;
  name: string;
  kind: string;
  config_path: string | null;
  config_json: string;
  config_hash: string;
  git_commit: string | null;
  seed: number;
  backend: string | null;
  status: string;
  pid: number | null;
  host: string | null;
  started_at: string;
  finished_at: string | null;
  phases: string;
  metrics: string;
  artifacts: string;
  state: string;
  output_dir: string | null;
  error: string | null;
}

const SCHEMA_VERSION = 1;

const CREATE = `
CREATE TABLE IF NOT EXISTS runs (
  id           TEXT PRIMARY KEY,
  name         TEXT NOT NULL,
  kind         TEXT NOT NULL CHECK (kind IN ('run', 'compare')),
  config_path  TEXT,
  config_json  TEXT NOT NULL,
  config_hash  TEXT NOT NULL,
  git_commit   TEXT,
  seed         INTEGER NOT NULL,
  backend      TEXT,
  status       TEXT NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'interrupted')),
  pid          INTEGER,
  host         TEXT,
  started_at   TEXT NOT NULL,
  finished_at  TEXT,
  phases       TEXT NOT NULL DEFAULT '{}',
  metrics      TEXT NOT NULL DEFAULT '{}',
  artifacts    TEXT NOT NULL DEFAULT '{}',
  state        TEXT NOT NULL DEFAULT '{}',
  output_dir   TEXT,
  error        TEXT
);
CREATE INDEX IF NOT EXISTS runs_started ON runs (started_at);
CREATE INDEX IF NOT EXISTS runs_hash ON runs (config_hash);
`;

/** Default registry file: <runs dir>/registry.sqlite (env GZH_RUNS_DIR moves the runs dir). */
export function defaultRegistryPath(): string {
  return join(defaultRunsDir(), 'registry.sqlite');
}

/** `git rev-parse HEAD` of the project (with `-dirty` when the work tree has changes), or null. */
export function currentGitCommit(cwd: string): string | null {
  try {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd,
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .toString()
      .trim();
    return dirty ? `${head}-dirty` : head;
  } catch {
    return null;
  }
}

/** Whether a process id is alive on this machine. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function timestampId(date: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const day = `${date.getFullYear()}${p(date.getMonth() + 1)}${p(date.getDate())}`;
  return `${day}-${p(date.getHours())}${p(date.getMinutes())}${p(date.getSeconds())}`;
}

function parseJson<T>(text: string | null, fallback: T): T {
  if (!text) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

export class RunNotFoundError extends InputError {
  readonly exitCode = 2;
  constructor(id: string, detail = '') {
    super(`no run matches "${id}"${detail}`);
  }
}

/** The run registry (runs/registry.sqlite): every run with its config, phases, metrics, artifacts and status. */
export class RunRegistry {
  private constructor(
    private readonly db: Database.Database,
    /** The registry file (`:memory:` for one in memory). */
    readonly path: string,
  ) {}

  /** Open (creating if needed) the registry at `path` (default runs/registry.sqlite). */
  static open(path = defaultRegistryPath()): RunRegistry {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    let db: Database.Database | undefined;
    try {
      db = new Database(path);
      db.pragma('journal_mode = WAL');
      db.pragma('busy_timeout = 5000');
      const version = db.pragma('user_version', { simple: true }) as number;
      if (version > SCHEMA_VERSION) {
        throw new Error(
          `run registry ${path} has schema version ${version}; this gzh understands up to ${SCHEMA_VERSION}`,
        );
      }
      db.exec(CREATE);
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
    } catch (error) {
      db?.close();
      if (!(error as { code?: string }).code?.startsWith('SQLITE_')) throw error;
      throw new CorruptArtifactError(
        path,
        `not a readable run registry (${(error as Error).message})`,
        'Move the file aside (the run folders are kept); the next run creates a new registry there',
        { cause: error },
      );
    }
    return new RunRegistry(db, path);
  }

  /** Close the database. */
  close(): void {
    this.db.close();
  }

  /** Record a new run in state `running`, owned by this process. */
  create(run: NewRun, now = new Date()): RunRecord {
    const slug = run.name.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 40);
    const id = run.id ?? `${timestampId(now)}-${slug}-${randomBytes(2).toString('hex')}`;
    this.db
      .prepare(
        `INSERT INTO runs (id, name, kind, config_path, config_json, config_hash, git_commit, seed, backend,
           status, pid, host, started_at, output_dir)
         VALUES (@id, @name, @kind, @configPath, @configJson, @configHash, @gitCommit, @seed, @backend,
           'running', @pid, @host, @startedAt, @outputDir)`,
      )
      .run({
        id,
        name: run.name,
        kind: run.kind,
        configPath: run.configPath ?? null,
        configJson: JSON.stringify(run.config),
        configHash: run.configHash,
        gitCommit: run.gitCommit ?? null,
        seed: run.seed,
        backend: run.backend ?? null,
        pid: process.pid,
        host: hostname(),
        startedAt: now.toISOString(),
        outputDir: run.outputDir ?? null,
      });
    return this.get(id);
  }

  /** A run by exact id, unique id prefix, or `latest`. Stale `running` rows read as `interrupted`. */
  get(idOrPrefix: string): RunRecord {
    this.refreshStale();
    let row: Row | undefined;
    if (idOrPrefix === 'latest') {
      row = this.db.prepare('SELECT * FROM runs ORDER BY started_at DESC, rowid DESC LIMIT 1').get() as Row | undefined;
    } else {
      row = this.db.prepare('SELECT * FROM runs WHERE id = ?').get(idOrPrefix) as Row | undefined;
      if (!row) {
        const rows = this.db
          .prepare("SELECT * FROM runs WHERE id LIKE ? ESCAPE '\\' ORDER BY started_at DESC LIMIT 3")
          .all(`${idOrPrefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`) as Row[];
        if (rows.length > 1)
          throw new RunNotFoundError(idOrPrefix, ` uniquely (${rows.map((r) => r.id).join(', ')}, …)`);
        row = rows[0];
      }
    }
    if (!row) throw new RunNotFoundError(idOrPrefix);
    return toRecord(row);
  }

  /** The newest run made from the config with this hash (what `--resume latest` resumes). */
  latestOf(configHash: string): RunRecord {
    this.refreshStale();
    const row = this.db
      .prepare('SELECT * FROM runs WHERE config_hash = ? ORDER BY started_at DESC, rowid DESC LIMIT 1')
      .get(configHash) as Row | undefined;
    if (!row) throw new RunNotFoundError('latest', ` made from this config (hash ${configHash.slice(0, 12)})`);
    return toRecord(row);
  }

  /** Newest first. */
  list(options: ListOptions = {}): RunRecord[] {
    this.refreshStale();
    const where: string[] = [];
    const params: Record<string, unknown> = {};
    if (options.status) {
      where.push('status = @status');
      params.status = options.status;
    }
    if (options.name) {
      where.push('name = @name');
      params.name = options.name;
    }
    const sql =
      `SELECT * FROM runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY started_at DESC, rowid ` +
      'DESC LIMIT @limit';
    return (this.db.prepare(sql).all({ ...params, limit: options.limit ?? 1_000_000 }) as Row[]).map(toRecord);
  }

  /**
   * Mark `running` rows whose process is gone as `interrupted`. Only rows started on this host
   * can be checked; returns how many changed.
   */
  refreshStale(): number {
    const rows = this.db.prepare("SELECT id, pid, host FROM runs WHERE status = 'running'").all() as Array<
      Pick<Row, 'id' | 'pid' | 'host'>
    >;
    const me = hostname();
    const update = this.db.prepare(
      "UPDATE runs SET status = 'interrupted', error = COALESCE(error, ?) WHERE id = ? AND status = 'running'",
    );
    let changed = 0;
    for (const row of rows) {
      if (row.host !== me || row.pid === null) continue;
      if (row.pid === process.pid || processAlive(row.pid)) continue;
      changed += update.run(`process ${row.pid} ended without finishing the run`, row.id).changes;
    }
    return changed;
  }

  /** Add seconds to a phase (phases repeated on resume accumulate). */
  recordPhase(id: string, phase: string, seconds: number): void {
    this.mutateJson(id, 'phases', (phases: Record<string, number>) => {
      phases[phase] = Math.round(((phases[phase] ?? 0) + seconds) * 1000) / 1000;
      return phases;
    });
  }

  /** Shallow-merge into metrics. */
  setMetrics(id: string, metrics: RunMetrics): void {
    this.mutateJson(id, 'metrics', (m: RunMetrics) => ({ ...m, ...metrics }));
  }

  /** Record artifact files (name → absolute path), merged into the run's. */
  addArtifacts(id: string, artifacts: Record<string, string>): void {
    this.mutateJson(id, 'artifacts', (a: Record<string, string>) => ({ ...a, ...artifacts }));
  }

  /** Shallow-merge into the resume state. */
  updateState(id: string, patch: Record<string, unknown>): void {
    this.mutateJson(id, 'state', (s: Record<string, unknown>) => ({ ...s, ...patch }));
  }

  /** Record the run's folder. */
  setOutputDir(id: string, dir: string): void {
    this.db.prepare('UPDATE runs SET output_dir = ? WHERE id = ?').run(dir, id);
  }

  /** Record the backend the run uses. */
  setBackend(id: string, backend: string): void {
    this.db.prepare('UPDATE runs SET backend = ? WHERE id = ?').run(backend, id);
  }

  /** Mark the run completed. */
  complete(id: string, now = new Date()): void {
    this.finish(id, 'completed', null, now);
  }

  /** Mark the run failed with `error`'s stack or message. */
  fail(id: string, error: unknown, now = new Date()): void {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    this.finish(id, 'failed', message, now);
  }

  /** The run stopped on purpose (Ctrl-C, budget exhausted by a signal…) and can be resumed. */
  markInterrupted(id: string, reason: string, now = new Date()): void {
    this.finish(id, 'interrupted', reason, now);
  }

  /**
   * Take over an interrupted or failed run to resume it in this process. Refuses completed runs and
   * runs whose owning process is still alive.
   */
  resume(id: string): RunRecord {
    const run = this.get(id);
    // asking to resume such a run is a usage error (InputError: exit code 2 in the CLI)
    if (run.status === 'completed') throw new InputError(`run ${run.id} is already completed; nothing to resume`);
    if (run.status === 'running')
      throw new InputError(`run ${run.id} is still running (pid ${run.pid} on ${run.host})`);
    this.db
      .prepare("UPDATE runs SET status = 'running', pid = ?, host = ?, finished_at = NULL, error = NULL WHERE id = ?")
      .run(process.pid, hostname(), run.id);
    return this.get(run.id);
  }

  private finish(id: string, status: RunStatus, error: string | null, now: Date): void {
    const res = this.db
      .prepare('UPDATE runs SET status = ?, error = ?, finished_at = ? WHERE id = ?')
      .run(status, error, now.toISOString(), id);
    if (res.changes === 0) throw new RunNotFoundError(id);
  }

  private mutateJson<T>(
    id: string,
    column: 'phases' | 'metrics' | 'artifacts' | 'state',
    change: (value: T) => T,
  ): void {
    const tx = this.db.transaction(() => {
      const row = this.db.prepare(`SELECT ${column} AS v FROM runs WHERE id = ?`).get(id) as { v: string } | undefined;
      if (!row) throw new RunNotFoundError(id);
      const next = change(parseJson(row.v, {} as T));
      this.db.prepare(`UPDATE runs SET ${column} = ? WHERE id = ?`).run(JSON.stringify(next), id);
    });
    tx.immediate();
  }
}

function toRecord(row: Row): RunRecord {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind as RunKind,
    configPath: row.config_path,
    config: parseJson(row.config_json, null),
    configHash: row.config_hash,
    gitCommit: row.git_commit,
    seed: row.seed,
    backend: row.backend,
    status: row.status as RunStatus,
    pid: row.pid,
    host: row.host,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    phases: parseJson(row.phases, {}),
    metrics: parseJson(row.metrics, {}),
    artifacts: parseJson(row.artifacts, {}),
    state: parseJson(row.state, {}),
    outputDir: row.output_dir,
    error: row.error,
  };
}

/** Wall-clock seconds of a run (to now while running). */
export function runDurationSeconds(run: RunRecord, now = new Date()): number {
  if (run.finishedAt) return Math.max(0, (Date.parse(run.finishedAt) - Date.parse(run.startedAt)) / 1000);
  if (run.status === 'running') return Math.max(0, (now.getTime() - Date.parse(run.startedAt)) / 1000);
  // Died without a finish time: the phases it completed are what is known.
  return Object.values(run.phases).reduce((a, b) => a + b, 0);
}
