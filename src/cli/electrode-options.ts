/**
 * `--electrodes FILE.tsv`, `--electrode-units mm|cm|m` and `--bad-channels`, shared by every
 * command that reads channels (`run`, `replay`, `evaluate`): one parser, one way to turn them
 * into a stream-metadata mapper and dsp options.
 */
import { attachElectrodes, ElectrodesError, parseLengthUnit, readElectrodes, type ElectrodeTable } from '../../adapters/bids/electrodes.ts';
import type { StreamMeta } from '../types.ts';
import { UsageError } from './args.ts';

export const ELECTRODE_OPTIONS = {
  electrodes: { type: 'string' },
  'electrode-units': { type: 'string' },
  'bad-channels': { type: 'boolean' },
} as const;

export const ELECTRODE_HELP = `  --electrodes FILE.tsv  BIDS electrodes.tsv: contact positions for montage midpoints and the model's
                         position codes (units from the *_coordsystem.json next to it, else
                         --electrode-units, else guessed: max |coord| > 1.5 → mm, else m)
  --electrode-units U    mm | cm | m, when the file has no coordsystem sidecar
  --bad-channels         online bad-channel detection in the dsp stage (flat, railing, noisy,
                         line noise, uncorrelated); bad channels leave CAR and bipolar montages
`;

export interface ElectrodeValues {
  electrodes?: string;
  'electrode-units'?: string;
}

/** The electrode table the options name, or undefined; bad values are UsageErrors naming the option. */
export function loadElectrodeTable(cmd: string, v: ElectrodeValues): ElectrodeTable | undefined {
  const u = v['electrode-units'];
  const units = u === undefined ? undefined : parseLengthUnit(u);
  if (u !== undefined && !units) throw new UsageError(`neurox ${cmd}: --electrode-units: expected mm, cm or m, got "${u}"`);
  if (v.electrodes === undefined) {
    if (u !== undefined) throw new UsageError(`neurox ${cmd}: --electrode-units needs --electrodes`);
    return undefined;
  }
  try {
    return readElectrodes(v.electrodes, { units });
  } catch (e) {
    if (e instanceof ElectrodesError) throw new UsageError(`neurox ${cmd}: --electrodes: ${e.message}`);
    throw e;
  }
}

/** A `mapStream` that attaches the table's positions to every stream it names (identity without a table). */
export function electrodeMapper(table: ElectrodeTable | undefined): ((meta: StreamMeta) => StreamMeta) | undefined {
  return table ? (meta) => attachElectrodes(meta, table) : undefined;
}
