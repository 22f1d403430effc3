// Compiled by types.test.mjs with `tsc --noEmit --strict`: every export of psycho.js used the
// way its README shows, so a declaration that drifts from the API fails the build of this file.
import {
  connect,
  connectOverlay,
  createInbox,
  OverlayConnection,
  Connection,
  Msg,
  MsgHeaders,
  PsychoError,
  Subscription,
  VERSION,
  type ConnectOptions,
  type ErrorKind,
  type OverlayNodeStats,
  type OverlayOptions,
  type OverlayStats,
  type PeerStats,
  type Payload,
  type Stats,
  type Status,
  type StatusDetail,
} from 'psycho-client';

const options: ConnectOptions = {
  name: 'types',
  token: 's3cret',
  noResponders: true,
  reconnectDelay: 250,
  reconnectDelayMax: 10_000,
  maxPendingBytes: 1 << 20,
};

export async function useEverything(url: string): Promise<string> {
  const nc: Connection = await connect(url, options);
  nc.addEventListener('status', (event) => {
    const detail = (event as CustomEvent<StatusDetail>).detail;
    const status: Status = detail.status;
    if (detail.error) console.log(status, detail.error.kind);
  });

  const payloads: Payload[] = ['text', new Uint8Array([1, 2]), new ArrayBuffer(4)];
  for (const data of payloads) nc.publish('greet.joe', data, { headers: { 'X-Id': ['1', '2'] } });

  const sub: Subscription = nc.subscribe('greet.*', { queue: 'workers', max: 10 });
  nc.subscribe('cb', {
    callback: (err: PsychoError | null, msg: Msg | null) => {
      if (err) console.log(err.kind satisfies ErrorKind, err.fatal);
      else if (msg) msg.respond('ok', { headers: new Map([['A', 'b']]) });
    },
  });
  for await (const msg of sub) {
    const headers: MsgHeaders | null = msg.headers;
    const id: string | undefined = headers?.get('X-Id');
    console.log(msg.subject, msg.reply, msg.data.byteLength, msg.string(), id, headers?.status);
    msg.json<{ n: number }>().n.toFixed();
    break;
  }
  sub.unsubscribe();
  await sub.closed;

  try {
    const reply: Msg = await nc.request('time', undefined, { timeout: 500 });
    console.log(reply.string());
  } catch (err) {
    if (err instanceof PsychoError && err.kind === 'no_responders') console.log('nobody');
  }

  await nc.flush();
  const stats: Stats = nc.stats;
  console.log(stats.inMsgs, stats.droppedPublishes, stats.framesSent, nc.info?.server_id);
  await nc.close();
  const why: PsychoError | undefined = await nc.closed();
  return `${createInbox()} ${VERSION} ${why?.kind ?? 'clean'}`;
}

// The same application in the overlay: one line differs (connectOverlay), the rest is the API.
export async function useOverlay(url: string): Promise<string> {
  const options: OverlayOptions = {
    cycle: 1000,
    maxPayload: 1 << 20,
    rtcConfiguration: { iceServers: [{ urls: 'stun:stun.example:3478' }] },
    maxPeerConnections: 400,
    maxPeerLinks: 32,
    rendezvous: 'chat',
    maxRelayedPages: 8,
    maxRelayBytes: 4 << 20,
  };
  const nc: OverlayConnection = await connectOverlay(url, options);
  const sub: Subscription = nc.subscribe('chat.room', { max: 1 });
  nc.publish('chat.room', 'hello', { headers: { 'X-Id': '1' } });
  for await (const msg of sub) console.log(msg.string());
  const reply: Msg = await nc.request('svc.echo', 'hi', { timeout: 500 });
  const stats: OverlayStats = nc.stats;
  const peers: PeerStats | null = stats.peers;
  const node: OverlayNodeStats | null = nc.overlay();
  console.log(reply.string(), stats.linkDrops, peers?.createdInPage, node?.ringsComplete, nc.address);
  console.log(stats.relay.forwarded, stats.relay.overBudget, stats.rendezvous?.malformed);
  await nc.flush();
  await nc.close();
  return nc.status;
}
