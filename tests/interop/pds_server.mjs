// The reference Bluesky PDS (npm @atproto/pds) and a PLC directory (@did-plc/server, in memory),
// both bound to 127.0.0.1 only, for the interop tests.
//
// Usage: node pds_server.mjs --modules DIR --data DIR [--rate-limits] [--parent PID]
//   DIR/node_modules holds @atproto/pds and @did-plc/server (see .ci/interop.sh install).
// Prints one JSON line {"pds": url, "plc": url} once /xrpc/_health answers, then serves until
// SIGTERM/SIGINT (or until --parent exits). Any attempt to reach a host other than loopback
// (a TCP connect or a DNS query) is refused and written to DATA/nonloopback.log, which the
// tests read: the PDS must never talk to the outside world.
import { randomBytes } from 'node:crypto'
import dns from 'node:dns'
import fs from 'node:fs'
import { createRequire } from 'node:module'
import net from 'node:net'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'

const { values: args } = parseArgs({
  options: {
    modules: { type: 'string' },
    data: { type: 'string' },
    'rate-limits': { type: 'boolean', default: false },
    parent: { type: 'string' },
  },
})
if (!args.modules || !args.data) {
  console.error('pds_server.mjs: --modules DIR and --data DIR are required')
  process.exit(2)
}
fs.mkdirSync(args.data, { recursive: true })
const violations = path.join(args.data, 'nonloopback.log')

// -- loopback guard: installed before any PDS code is loaded ---------------------------------
function isLoopback(host) {
  if (host === undefined || host === null || host === '' || host === 'localhost') return true
  const h = String(host).replace(/^\[|\]$/g, '')
  if (h.endsWith('.localhost')) return true
  if (net.isIPv4(h)) return h.startsWith('127.')
  if (net.isIPv6(h)) return h === '::1' || h.startsWith('::ffff:127.')
  return false
}

function refuse(what) {
  fs.appendFileSync(violations, `${new Date().toISOString()} ${what}\n`)
  const err = new Error(`interop: non-loopback network access refused: ${what}`)
  err.code = 'ENOTFOUND'
  return err
}

const realConnect = net.Socket.prototype.connect
net.Socket.prototype.connect = function (...params) {
  const first = params[0]
  let options = first
  if (Array.isArray(first)) options = first[0] // net's internal normalized form
  if (typeof options === 'number' || typeof options === 'string') {
    options = typeof options === 'number' ? { port: options, host: params[1] } : { path: options }
  }
  if (options && !options.path && !isLoopback(options.host)) {
    const err = refuse(`connect ${options.host}:${options.port}`)
    process.nextTick(() => this.destroy(err))
    return this
  }
  return realConnect.apply(this, params)
}

const realLookup = dns.lookup
dns.lookup = function (host, ...rest) {
  const callback = rest[rest.length - 1]
  if (!isLoopback(host)) {
    process.nextTick(() => callback(refuse(`dns lookup ${host}`)))
    return {}
  }
  return realLookup.call(this, host, ...rest)
}
const realPromiseLookup = dns.promises.lookup
dns.promises.lookup = async (host, ...rest) => {
  if (!isLoopback(host)) throw refuse(`dns lookup ${host}`)
  return realPromiseLookup(host, ...rest)
}
// Handle resolution asks DNS TXT records over UDP, which no TCP guard sees.
for (const target of [dns, dns.promises, dns.Resolver.prototype, dns.promises.Resolver.prototype]) {
  for (const name of Object.keys(target)) {
    if (!/^resolve/.test(name) || typeof target[name] !== 'function') continue
    target[name] = function (host, ...rest) {
      const err = refuse(`dns ${name} ${host}`)
      const callback = rest[rest.length - 1]
      if (typeof callback === 'function') return process.nextTick(() => callback(err))
      return Promise.reject(err)
    }
  }
}

// -- servers --------------------------------------------------------------------------------
const load = async (name) => {
  const require = createRequire(path.join(args.modules, 'package.json'))
  return import(pathToFileURL(require.resolve(name)).href)
}

async function freePort() {
  const server = net.createServer()
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  await new Promise((resolve) => server.close(resolve))
  return port
}

async function listen(app, port) {
  const server = app.listen(port, '127.0.0.1')
  await new Promise((resolve, reject) => {
    server.once('listening', resolve)
    server.once('error', reject)
  })
  return server
}

const plcModule = await load('@did-plc/server')
const { PlcServer, Database } = plcModule.default?.PlcServer ? plcModule.default : plcModule
const plcPort = await freePort()
const plc = PlcServer.create({ db: Database.mock(), port: plcPort })
const plcServer = await listen(plc.app, plcPort)
const plcUrl = `http://127.0.0.1:${plcPort}`

const pdsPort = await freePort()
Object.assign(process.env, {
  PDS_PORT: String(pdsPort),
  PDS_HOSTNAME: 'localhost',
  PDS_DEV_MODE: 'true',
  PDS_INVITE_REQUIRED: 'false',
  PDS_SERVICE_HANDLE_DOMAINS: '.test',
  PDS_DID_PLC_URL: plcUrl,
  PDS_DATA_DIRECTORY: args.data,
  PDS_BLOBSTORE_DISK_LOCATION: path.join(args.data, 'blobs'),
  PDS_JWT_SECRET: randomBytes(16).toString('hex'),
  PDS_ADMIN_PASSWORD: randomBytes(16).toString('hex'),
  PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX: randomBytes(32).toString('hex'),
  PDS_RATE_LIMITS_ENABLED: args['rate-limits'] ? 'true' : 'false',
  LOG_ENABLED: 'false',
})
// Nothing that would make the PDS call out: no crawlers, AppView, moderation or e-mail.
for (const name of [
  'PDS_CRAWLERS',
  'PDS_BSKY_APP_VIEW_URL',
  'PDS_MOD_SERVICE_URL',
  'PDS_REPORT_SERVICE_URL',
  'PDS_EMAIL_SMTP_URL',
  'PDS_ENTRYWAY_URL',
]) {
  delete process.env[name]
}

const { PDS, envToCfg, envToSecrets, readEnv } = await load('@atproto/pds')
const env = readEnv()
const pds = await PDS.create(envToCfg(env), envToSecrets(env))
await pds.ctx.sequencer.start()
const pdsServer = await listen(pds.app, pdsPort)
const pdsUrl = `http://127.0.0.1:${pdsPort}`

const health = await fetch(`${pdsUrl}/xrpc/_health`)
if (!health.ok) {
  console.error(`pds_server.mjs: /xrpc/_health answered ${health.status}`)
  process.exit(1)
}
console.log(JSON.stringify({ pds: pdsUrl, plc: plcUrl, data: args.data }))

let stopping = false
async function stop() {
  if (stopping) return
  stopping = true
  pdsServer.closeAllConnections?.()
  plcServer.closeAllConnections?.()
  pdsServer.close()
  plcServer.close()
  try {
    await pds.ctx.destroy()
  } finally {
    process.exit(0)
  }
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
if (args.parent) {
  const parent = Number(args.parent)
  setInterval(() => {
    try {
      process.kill(parent, 0)
    } catch {
      stop()
    }
  }, 1000).unref()
}
