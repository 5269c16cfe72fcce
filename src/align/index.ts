export { Framer, frames, type Frame, type FrameStream, type FrameMarker, type FramerOptions } from './framer.ts';
