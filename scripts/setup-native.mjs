#!/usr/bin/env node
// Native TensorFlow backend setup (root `postinstall`; also `.ci/run` with --require).
//
// `@tensorflow/tfjs-node` is an optionalDependency. Its own install script
// downloads libtensorflow from storage.googleapis.com; where that works the
// package installs normally and this script only confirms that it loads.
// Where the download fails, npm drops the package (optional) and this script
// builds it offline:
//   1. install @tensorflow/tfjs-node@4.22.0 with scripts skipped, so that it
//      shares the project's single @tensorflow/tfjs-core (package-lock.json is
//      left untouched: --no-save);
//   2. take the TensorFlow C library from the `tensorflow-cpu` Python wheel
//      (`pip download tensorflow-cpu==<ver> --no-deps`, cached in
//      ~/.cache/galaxy-zoo-hierarchy) and unpack its headers and the two
//      shared libraries into tfjs-node's deps/ folder;
//   3. compile tfjs-node's N-API addon with node-pre-gyp --build-from-source,
//      using npm's bundled node-gyp and the local Node headers.
//
// Default mode never fails the install: if anything goes wrong it warns and
// exits 0 (the wasm backend is then used).  `--require` exits 1 unless the
// native backend loads at the end.  `--force` rebuilds even if it loads.
// GZH_SKIP_NATIVE=1 skips the build (ignored with --require).
// Installed as a dependency (this package inside node_modules), the postinstall does nothing:
// tfjs-node's own install provides the native backend where it can; GZH_BUILD_NATIVE=1, --force
// or --require run the offline build there too (e.g. `GZH_BUILD_NATIVE=1 npm rebuild galaxy-zoo-hierarchy`).
// Environment: GZH_TF_WHEEL=<path to a tensorflow(-cpu) wheel> skips pip;
// GZH_TF_VERSION (default 2.21.0); GZH_CACHE_DIR (default
// $XDG_CACHE_HOME/galaxy-zoo-hierarchy or ~/.cache/galaxy-zoo-hierarchy).

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const TFJS_NODE_VERSION = '4.22.0';
const TF_VERSION = process.env.GZH_TF_VERSION || '2.21.0';
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TFJS_NODE_DIR = path.join(ROOT, 'node_modules', '@tensorflow', 'tfjs-node');
const CACHE_DIR =
  process.env.GZH_CACHE_DIR ||
  path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'galaxy-zoo-hierarchy');

const args = new Set(process.argv.slice(2));
const REQUIRE = args.has('--require');
const FORCE = args.has('--force');

const log = (msg) => process.stdout.write(`[setup-native] ${msg}\n`);
const warn = (msg) => process.stderr.write(`[setup-native] WARNING: ${msg}\n`);

class SetupError extends Error {}

function run(cmd, cmdArgs, options = {}) {
  const result = spawnSync(cmd, cmdArgs, {
    cwd: ROOT,
    stdio: options.capture ? ['ignore', 'pipe', 'pipe'] : ['ignore', 'inherit', 'inherit'],
    encoding: 'utf8',
    ...options,
  });
  if (result.error) throw new SetupError(`${cmd} could not be started: ${result.error.message}`);
  if (result.status !== 0) {
    const detail = options.capture ? `\n${(result.stderr || '').trim().split('\n').slice(-15).join('\n')}` : '';
    throw new SetupError(`${cmd} ${cmdArgs.join(' ')} exited with ${result.status}${detail}`);
  }
  return result.stdout;
}

/**
 * Loads tfjs-node in a child process through the project's own
 * @tensorflow/tfjs and checks that the backend registered there is
 * 'tensorflow' (a second tfjs-core copy would register it elsewhere).
 */
function probeNative() {
  const code = `
    const tf = await import('@tensorflow/tfjs');
    const node = await import('@tensorflow/tfjs-node');
    await tf.setBackend('tensorflow');
    await tf.ready();
    const sum = tf.tidy(() => tf.add(tf.tensor1d([1, 2]), tf.tensor1d([3, 4])).dataSync());
    const binding = tf.backend().binding;
    const out = {
      backend: tf.getBackend(),
      sum: Array.from(sum),
      tfjsNode: (node.default ?? node).version?.['tfjs-node'] ?? null,
      tensorflow: binding && binding.TF_Version ? binding.TF_Version : null,
    };
    process.stdout.write('GZH_PROBE ' + JSON.stringify(out) + '\\n');
  `;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', code], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' },
    timeout: 120_000,
  });
  const line = (result.stdout || '').split('\n').find((l) => l.startsWith('GZH_PROBE '));
  if (result.status === 0 && line) {
    const info = JSON.parse(line.slice('GZH_PROBE '.length));
    if (info.backend === 'tensorflow' && info.sum[0] === 4 && info.sum[1] === 6) return { ok: true, info };
    return { ok: false, reason: `loaded, but the project's tfjs sees backend '${info.backend}'` };
  }
  const err = (result.stderr || '').trim().split('\n').filter(Boolean);
  const reason = err.find((l) => /Error|error:/.test(l)) || err[err.length - 1] || `exit ${result.status}`;
  return { ok: false, reason };
}

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}

/** Step 1: tfjs-node's JS sources and deps, no install scripts, lockfile untouched. */
function ensurePackage() {
  const pkg = readJson(path.join(TFJS_NODE_DIR, 'package.json'));
  const preGyp = path.join(ROOT, 'node_modules', '@mapbox', 'node-pre-gyp', 'package.json');
  if (pkg?.version === TFJS_NODE_VERSION && fs.existsSync(preGyp)) {
    log(`@tensorflow/tfjs-node ${TFJS_NODE_VERSION} present`);
    return;
  }
  log(`installing @tensorflow/tfjs-node@${TFJS_NODE_VERSION} with scripts skipped (package-lock.json unchanged)`);
  const env = { ...process.env };
  // Settings inherited from an outer `npm ci` must not leak into this install.
  for (const key of Object.keys(env)) {
    if (/^npm_config_(save|global|omit|include|production|only|dry_run|package_lock)/i.test(key)) delete env[key];
  }
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  run(
    npm,
    [
      'install',
      '--no-save',
      '--ignore-scripts',
      '--no-audit',
      '--no-fund',
      `@tensorflow/tfjs-node@${TFJS_NODE_VERSION}`,
    ],
    { env },
  );
  if (readJson(path.join(TFJS_NODE_DIR, 'package.json'))?.version !== TFJS_NODE_VERSION) {
    throw new SetupError('npm did not install @tensorflow/tfjs-node');
  }
}

/** Step 2a: the tensorflow-cpu wheel, from GZH_TF_WHEEL, the cache or pip. */
function findWheel() {
  if (process.env.GZH_TF_WHEEL) {
    if (!fs.existsSync(process.env.GZH_TF_WHEEL))
      throw new SetupError(`GZH_TF_WHEEL not found: ${process.env.GZH_TF_WHEEL}`);
    return process.env.GZH_TF_WHEEL;
  }
  const wheelDir = path.join(CACHE_DIR, 'wheels');
  const cached = () =>
    fs.existsSync(wheelDir)
      ? fs.readdirSync(wheelDir).find((f) => f.startsWith(`tensorflow_cpu-${TF_VERSION}-`) && f.endsWith('.whl'))
      : undefined;
  let name = cached();
  if (name) {
    log(`using cached wheel ${path.join(wheelDir, name)}`);
    return path.join(wheelDir, name);
  }
  fs.mkdirSync(wheelDir, { recursive: true });
  log(`downloading tensorflow-cpu==${TF_VERSION} wheel with pip (~270 MB) into ${wheelDir}`);
  const python = findPython();
  run(python, [
    '-m',
    'pip',
    'download',
    `tensorflow-cpu==${TF_VERSION}`,
    '--no-deps',
    '--only-binary=:all:',
    '--disable-pip-version-check',
    '-d',
    wheelDir,
  ]);
  name = cached();
  if (!name) throw new SetupError(`pip did not leave a tensorflow_cpu-${TF_VERSION} wheel in ${wheelDir}`);
  return path.join(wheelDir, name);
}

function findPython() {
  for (const candidate of [process.env.PYTHON, 'python3', 'python'].filter(Boolean)) {
    const r = spawnSync(candidate, ['-c', 'import sys; print(sys.version_info[0])'], { encoding: 'utf8' });
    if (r.status === 0 && r.stdout.trim() === '3') return candidate;
  }
  throw new SetupError('python3 (with pip) is needed to fetch the tensorflow-cpu wheel; or set GZH_TF_WHEEL');
}

const LIBS = ['libtensorflow_cc.so.2', 'libtensorflow_framework.so.2'];
const STAMP = '.gzh-libtensorflow';

/** Step 2b: unpack tensorflow/include/** and the two shared libraries into deps/. */
function stageLibtensorflow(wheel) {
  const deps = path.join(TFJS_NODE_DIR, 'deps');
  const stampFile = path.join(deps, STAMP);
  const stamp = `${path.basename(wheel)} ${fs.statSync(wheel).size}`;
  const libDir = path.join(deps, 'lib');
  if (
    fs.existsSync(stampFile) &&
    fs.readFileSync(stampFile, 'utf8') === stamp &&
    LIBS.every((l) => fs.existsSync(path.join(libDir, l)))
  ) {
    log('libtensorflow already staged in tfjs-node/deps');
  } else {
    log(`unpacking headers and ${LIBS.join(', ')} from ${path.basename(wheel)}`);
    fs.rmSync(deps, { recursive: true, force: true });
    fs.mkdirSync(libDir, { recursive: true });
    const script = `
import os, shutil, sys, zipfile
wheel, deps = sys.argv[1], sys.argv[2]
libs = set(sys.argv[3:])
with zipfile.ZipFile(wheel) as z:
    for info in z.infolist():
        name = info.filename
        if name.endswith('/'):
            continue
        if name.startswith('tensorflow/include/'):
            dest = os.path.join(deps, 'include', name[len('tensorflow/include/'):])
        elif name.startswith('tensorflow/') and name[len('tensorflow/'):] in libs:
            dest = os.path.join(deps, 'lib', name[len('tensorflow/'):])
        else:
            continue
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with z.open(info) as src, open(dest, 'wb') as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
`;
    let python = null;
    try {
      python = findPython();
    } catch {
      /* fall back to unzip below */
    }
    if (python) {
      run(python, ['-c', script, wheel, deps, ...LIBS]);
    } else {
      const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gzh-wheel-'));
      try {
        run('unzip', ['-q', wheel, 'tensorflow/include/*', ...LIBS.map((l) => `tensorflow/${l}`), '-d', tmp]);
        fs.renameSync(path.join(tmp, 'tensorflow', 'include'), path.join(deps, 'include'));
        for (const l of LIBS) fs.renameSync(path.join(tmp, 'tensorflow', l), path.join(libDir, l));
      } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
      }
    }
    for (const l of LIBS) {
      if (!fs.existsSync(path.join(libDir, l))) throw new SetupError(`${l} not found in ${wheel}`);
    }
    if (!fs.existsSync(path.join(deps, 'include', 'tensorflow', 'c', 'c_api.h'))) {
      throw new SetupError(`tensorflow/include/tensorflow/c/c_api.h not found in ${wheel}`);
    }
    fs.writeFileSync(stampFile, stamp);
  }
  // Names tfjs-node's binding.gyp (-ltensorflow -ltensorflow_framework) and
  // deps-constants.js expect.  The addon records the SONAMEs
  // (libtensorflow_cc.so.2, libtensorflow_framework.so.2), found via its
  // rpath $ORIGIN/../../deps/lib.
  const links = {
    'libtensorflow.so': 'libtensorflow_cc.so.2',
    'libtensorflow.so.2': 'libtensorflow_cc.so.2',
    [`libtensorflow.so.${TF_VERSION}`]: 'libtensorflow_cc.so.2',
    'libtensorflow_cc.so': 'libtensorflow_cc.so.2',
    'libtensorflow_framework.so': 'libtensorflow_framework.so.2',
    [`libtensorflow_framework.so.${TF_VERSION}`]: 'libtensorflow_framework.so.2',
  };
  for (const [name, target] of Object.entries(links)) {
    const p = path.join(libDir, name);
    fs.rmSync(p, { force: true });
    fs.symlinkSync(target, p);
  }
}

function findNodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    path.join(
      path.dirname(process.execPath),
      '..',
      'lib',
      'node_modules',
      'npm',
      'node_modules',
      'node-gyp',
      'bin',
      'node-gyp.js',
    ),
  ];
  const npmRoot = spawnSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['root', '-g'], { encoding: 'utf8' });
  if (npmRoot.status === 0) {
    candidates.push(path.join(npmRoot.stdout.trim(), 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  }
  return candidates.filter(Boolean).find((c) => fs.existsSync(c));
}

function findNodeDir() {
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  if (fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) return prefix;
  return undefined; // node-gyp falls back to its header cache / download
}

/** Step 3: compile the addon. */
function buildAddon() {
  const preGypBin = path.join(ROOT, 'node_modules', '@mapbox', 'node-pre-gyp', 'bin', 'node-pre-gyp');
  if (!fs.existsSync(preGypBin)) throw new SetupError('@mapbox/node-pre-gyp is missing');
  const env = { ...process.env };
  const nodeGyp = findNodeGyp();
  if (nodeGyp) env.npm_config_node_gyp = nodeGyp;
  const nodeDir = findNodeDir();
  if (nodeDir) env.npm_config_nodedir = nodeDir;
  env.JOBS = env.JOBS || String(Math.max(1, os.availableParallelism?.() ?? os.cpus().length));
  log(
    `compiling tfjs-node addon (node-pre-gyp --build-from-source; node-gyp ${nodeGyp ?? 'from PATH'}; ` +
      `nodedir ${nodeDir ?? 'default'})`,
  );
  const started = Date.now();
  const quiet = process.env.GZH_VERBOSE ? [] : ['--loglevel=warn'];
  run(process.execPath, [preGypBin, 'install', '--build-from-source', ...quiet], { cwd: TFJS_NODE_DIR, env });
  log(`addon built in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

/** This package's root lies inside a node_modules folder: it is someone's dependency. */
function installedAsDependency() {
  return ROOT.split(path.sep).includes('node_modules');
}

function main() {
  if (installedAsDependency() && !REQUIRE && !FORCE && process.env.GZH_BUILD_NATIVE !== '1') {
    log('installed as a dependency: nothing to do (set GZH_BUILD_NATIVE=1 to build the native backend offline)');
    return 0;
  }
  if (process.env.GZH_SKIP_NATIVE === '1' && !REQUIRE) {
    log('GZH_SKIP_NATIVE=1: skipping the native TensorFlow backend (wasm will be used)');
    return 0;
  }
  if (!FORCE) {
    const probe = probeNative();
    if (probe.ok) {
      log(
        `native backend ready: tfjs-node ${probe.info.tfjsNode ?? TFJS_NODE_VERSION}, TensorFlow ` +
          `${probe.info.tensorflow ?? '?'}`,
      );
      return 0;
    }
    log(`native backend not loadable yet (${probe.reason}); building it from the tensorflow-cpu wheel`);
  }
  try {
    if (process.platform !== 'linux' || process.arch !== 'x64') {
      throw new SetupError(`offline build supports linux-x64 only (this is ${process.platform}-${process.arch})`);
    }
    ensurePackage();
    stageLibtensorflow(findWheel());
    buildAddon();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (REQUIRE) {
      process.stderr.write(`[setup-native] ERROR: ${message}\n`);
      return 1;
    }
    warn(`${message}\nThe native backend is unavailable; training falls back to the wasm backend.`);
    return 0;
  }
  const probe = probeNative();
  if (probe.ok) {
    log(
      `native backend ready: tfjs-node ${probe.info.tfjsNode ?? TFJS_NODE_VERSION}, TensorFlow ` +
        `${probe.info.tensorflow ?? '?'}`,
    );
    return 0;
  }
  if (REQUIRE) {
    process.stderr.write(`[setup-native] ERROR: built, but the native backend does not load: ${probe.reason}\n`);
    return 1;
  }
  warn(`built, but the native backend does not load (${probe.reason}); training falls back to wasm.`);
  return 0;
}

process.exitCode = main();
