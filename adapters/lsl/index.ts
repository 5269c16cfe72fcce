/** Lab Streaming Layer adapter: the real liblsl through koffi. */
export { liblsl, liblslCandidates, localClock, LiblslNotFoundError, type ChannelFormat } from './liblsl.ts';
export { type StreamDescription, type StreamSpec, createInfo, validateSpec } from './info.ts';
export { StreamOutlet, type NumericArray } from './outlet.ts';
export { StreamInlet, LslError, type Pulled } from './inlet.ts';
export { resolveStreams, ContinuousResolver, predicate, type StreamQuery } from './resolve.ts';
export { lslSource, inletSource, streamIdOf, closeAllInlets, type LslSourceOptions } from './source.ts';
