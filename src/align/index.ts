export { Framer, type Frame, type FrameStream, type FrameMarker, type FramerOptions } from './framer.ts';
