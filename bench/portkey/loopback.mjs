// Preloaded into the Portkey process (node --import): Portkey's start script
// listens on every interface; the bench binds loopback only.
import net from 'node:net';

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function listenOnLoopback(...args) {
  if (typeof args[0] === 'number') return listen.call(this, args[0], '127.0.0.1', ...args.slice(1).filter((arg) => typeof arg === 'function'));
  return listen.apply(this, args);
};
