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
const PROBE = 'import sys; print("%d %d" % sys.version_info[:2])';

function version(command) {
  const probe = childProcess.spawnSync(command[0], [...command.slice(1), ...FLAGS, '-c', PROBE],
    { encoding: 'utf8', timeout: 20000, windowsHide: true, stdio: ['ignore', 'pipe', 'ignore'] });
  const match = probe.status === 0 && /^(\d+) (\d+)\s*$/.exec(probe.stdout || '');
  return match ? [Number(match[1]), Number(match[2])] : null;
}

function suitable(command) {
  const found = version(command);
  return found !== null && (found[0] > 3 || (found[0] === 3 && found[1] >= 10));
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
  const dirs = (process.env.PATH || process.env.Path || '').split(path.delimiter)
    .filter((dir) => dir && path.isAbsolute(dir));
  const commands = [];
  const seen = new Set();
  const suffix = WINDOWS ? '.exe' : '';
  const add = (file, args) => {
    let real = file;
    try { real = fs.realpathSync(file); } catch (err) { return; }
    if (!isFile(file) || seen.has(real + args.join(' '))) return;
    seen.add(real + args.join(' '));
    commands.push([file, ...args]);
  };
  for (const name of NAMES) for (const dir of dirs) add(path.join(dir, name + suffix), []);
  if (WINDOWS) for (const dir of dirs) add(path.join(dir, 'py.exe'), ['-3']);
  return commands;
}

function findPython() {
  const chosen = process.env.PY_AWS_OIDC_PYTHON;
  if (chosen) {
    return path.isAbsolute(chosen) && isFile(chosen) && suitable([chosen]) ? [chosen] : null;
  }
  return candidates().find(suitable) || null;
}

// As the runner's command data: a value cannot end the line or start another command.
function escape(text) {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

function launch(args) {
  const python = findPython();
  if (python === null) {
    const given = process.env.PY_AWS_OIDC_PYTHON;
    const what = given ? 'PY_AWS_OIDC_PYTHON (' + escape(given) + ') is not an absolute path to Python 3.10 or newer'
      : 'no Python 3.10 or newer found on PATH (absolute entries only)';
    process.stdout.write('::error::py-aws-oidc host runtime: ' + what + '. Install one with ' +
      'actions/setup-python, set PY_AWS_OIDC_PYTHON to the absolute path of a python 3.10+, ' +
      'or use the container action (uses: org/py-aws-oidc@v1).' + os.EOL);
    process.exit(1);
  }
  const child = childProcess.spawn(python[0], [...python.slice(1), ...FLAGS, PYZ, ...args],
    { stdio: 'inherit', env: process.env, windowsHide: true });
  const forward = (signal) => () => child.kill(signal);
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, forward(signal));
  child.on('error', (err) => {
    process.stdout.write('::error::py-aws-oidc host runtime: cannot run ' + escape(python[0]) + ' (' +
      err.code + ').' + os.EOL);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    const number = signal ? os.constants.signals[signal] : 0;
    if (signal) process.exit(number ? 128 + number : 1);
    process.exit(code === null ? 1 : code);
  });
}

module.exports = { launch, findPython };
