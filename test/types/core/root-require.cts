// The binding's own entry point, required from CommonJS TypeScript.
import bufferevent = require('bufferevent');
import { EvBuffer } from 'bufferevent';

const buffer = new EvBuffer();
buffer.add('abc');
const error: bufferevent.BuffereventError | null = null;
console.log(buffer.length, bufferevent.EV.READ, error);
