/** The counter outlet process is devices/counter-outlet.ts; this path runs it for existing callers. */
import '../../devices/counter-outlet.ts';
