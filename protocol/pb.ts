// The generated protobufjs classes, loaded after switching int64 to plain JS numbers.
// Every int64 in KiteQ's schema is a unix time in seconds or a counter, far below 2^53,
// so Long objects would only cost allocations on the hot path.
import * as protobuf from 'protobufjs/minimal';
import { installStrictReaders } from './strict-reader';

(protobuf.util as { Long: unknown }).Long = undefined;
protobuf.configure();

// protobufjs accepts some cut-short bodies; make its reader throw instead (strict-reader.ts).
installStrictReaders();

import pb = require('./generated/kiteq');
export import protocol = pb.protocol;
