// The host runtime's launcher (main.js and post.js): find Python 3.10+ and run the bundled
// program dist/py-aws-oidc.pyz with the step's environment, stdio and arguments; exit with its
// status. No dependencies; CommonJS for node 20 and 24. See docs/host-runtime.md.
'use strict';
const childProcess = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const WINDOWS = process.platform === 'win32';
const PYZ = path.join(__dirname, 'dist', 'py-aws-oidc.pyz');
// Isolated (no PYTHON* variables, user site or script directory), no site-packages, UTF-8 I/O.
const FLAGS = ['-I', '-S', '-X', 'utf8'];
const NAMES = ['python3', 'python3.14', 'python3.13', 'python3.12', 'python3.11', 'python3.10',
  'python'];
// POSIX: a candidate is asked for its version by the program's own start (no second process):
// with -X py-aws-oidc-ready=3 the zip's __main__.py writes "MAJOR.MINOR" to fd 3 first, and
// exits at once when older than 3.10. Windows: a separate probe, with the same flags.
const READY = ['-X', 'py-aws-oidc-ready=3'];
const PROBE = 'import sys; print("%d.%d" % sys.version_info[:2])';

function suitable(answer) {
  const match = /^(\d+)\.(\d+)\s*$/.exec(answer || '');
  return match !== null && (Number(match[1]) > 3 || (Number(match[1]) === 3 && Number(match[2]) >= 10));
}

function probe(command) {
  const done = childProcess.spawnSync(command[0], [...command.slice(1), ...FLAGS, '-c', PROBE],
    { encoding: 'utf8', timeout: 20000, windowsHide: true, stdio: ['ignore', 'pipe', 'ignore'] });
  return done.status === 0 && suitable(done.stdout);
}

function isFile(file) {
  try {
    if (!fs.statSync(file).isFile()) return false;
    if (!WINDOWS) fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch (err) {
    return false;
  }
}

// PATH walked here, absolute entries only: node's own search (libuv) on Windows looks in the
// working directory first, the workspace, where checked-out code could hold a python.exe.
function candidates() {
  const chosen = process.env.PY_AWS_OIDC_PYTHON;
  if (chosen) return path.isAbsolute(chosen) && isFile(chosen) ? [[chosen]] : [];
  const dirs = (process.env.PATH || process.env.Path || '').split(path.delimiter)
    .filter((dir) => dir && path.isAbsolute(dir));
  const commands = [];
  const seen = new Set();
  const add = (file, args) => {
    if (!isFile(file)) return;
    const key = fs.realpathSync(file) + ' ' + args.join(' ');
    if (!seen.has(key)) commands.push([file, ...args]);
    seen.add(key);
  };
  for (const name of NAMES) for (const dir of dirs) add(path.join(dir, name + (WINDOWS ? '.exe' : '')), []);
  if (WINDOWS) for (const dir of dirs) add(path.join(dir, 'py.exe'), ['-3']);
  return commands;
}

// As the runner's command data: a value cannot end the line or start another command.
function escape(text) {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

function fail() {
  const given = process.env.PY_AWS_OIDC_PYTHON;
  const what = given ? 'PY_AWS_OIDC_PYTHON (' + escape(given) + ') is not an absolute path to Python 3.10 or newer'
    : 'no Python 3.10 or newer found on PATH (absolute entries only)';
  process.stdout.write('::error::py-aws-oidc host runtime: ' + what + '. Install one with ' +
    'actions/setup-python, set PY_AWS_OIDC_PYTHON to the absolute path of a python 3.10+, ' +
    'or use the container action (uses: org/py-aws-oidc@v1).' + os.EOL);
  process.exit(1);
}

function attempt(commands, index, args) {
  if (index >= commands.length) return fail();
  const command = commands[index];
  if (WINDOWS && !probe(command)) return attempt(commands, index + 1, args);
  const child = childProcess.spawn(command[0],
    [...command.slice(1), ...FLAGS, ...(WINDOWS ? [] : READY), PYZ, ...args],
    { stdio: ['inherit', 'inherit', 'inherit', WINDOWS ? 'ignore' : 'pipe'], env: process.env,
      windowsHide: true });
  let answer = WINDOWS ? '3.10' : '';
  if (!WINDOWS) child.stdio[3].on('data', (data) => { answer += data; });
  const forward = (signal) => () => child.kill(signal);
  const handlers = ['SIGINT', 'SIGTERM'].map((signal) => [signal, forward(signal)]);
  for (const [signal, handler] of handlers) process.on(signal, handler);
  let failed = false;
  child.on('error', () => { failed = true; });
  child.on('close', (code, signal) => {
    for (const [name, handler] of handlers) process.removeListener(name, handler);
    if (failed || !suitable(answer)) return attempt(commands, index + 1, args);
    const number = signal ? os.constants.signals[signal] : 0;
    if (signal) process.exit(number ? 128 + number : 1);
    process.exit(code === null ? 1 : code);
  });
}

function launch(args) {
  attempt(candidates(), 0, args);
}

module.exports = { launch, probe, candidates };
