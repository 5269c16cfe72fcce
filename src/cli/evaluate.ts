/** `neurox evaluate`: offline training and scoring on labelled recordings. */
import { writeFileSync } from 'node:fs';
import { EvalInputError, isInputError, parseLabelMap } from '../eval/data.ts';
import { evaluate, type EvalParadigm } from '../eval/evaluate.ts';
import { jsonReport, svgReport, textReport } from '../eval/report.ts';
import { num, parse, UsageError } from './args.ts';
import { decoderChoice, loadDecoder } from './decoder-options.ts';
import { ELECTRODE_HELP, ELECTRODE_OPTIONS, loadElectrodeTable } from './electrode-options.ts';
import { attachElectrodesToChannels } from '../../adapters/bids/electrodes.ts';

const HELP = `neurox evaluate --train FILES [--test FILES] --paradigm mi|p300|ssvep [options]
  --train F[,F...]    labelled recordings to train on (repeatable; XDF or EDF/BDF)
  --test F[,F...]     recordings to score on; without it: K-fold cross-validation by trial
  --paradigm P        mi (band power + LDA), p300 (ERP epochs + LDA), ssvep (tone power + LDA)
  --decoder NAME      baseline (default: the paradigm's features + LDA) or diver-s (every frame
                      through the ONNX model, as live; an LDA head is fitted on its class
                      log-probabilities per split; mi and ssvep)
  --model FILE        ONNX step model for --decoder diver-s (default models/diver-s.int8.onnx)
  --device cpu|gpu    ONNX Runtime device for the model
  --cv K              folds for cross-validation (default 5)
  --classes a,b       classes to use (default: every labelled class except rest)
  --label-map M=l,..  marker / annotation text → class (EEGMMIDB files S###R##.edf are mapped
                      automatically: T1/T2 = left/right in R03/R04, fists/feet in R05/R06; T0 = rest)
  --from S --to S     trial window after the cue for mi/ssvep frames (default 0.5, 4)
  --hop S --window S  frame hop / analysis window (default 0.08 / 1.0, as live)
  --trial-seconds S   seconds per trial for the ITR (default: --to; p300: stimulus spacing)
  --json              print the result as JSON (metrics and every trial)
  --plot FILE.svg     save a plot: confusion matrix + per-trial probabilities
  --lenient           read damaged files up to the damage (default: fail naming the byte offset)
${ELECTRODE_HELP}Labels from XDF marker streams are <paradigm>:<class> (mi:left, p300:target, ssvep:10).
`;

export async function evaluateCli(argv: string[]): Promise<number> {
  const { values } = parse('evaluate', argv, {
    train: { type: 'string', multiple: true },
    test: { type: 'string', multiple: true },
    paradigm: { type: 'string' },
    decoder: { type: 'string' },
    model: { type: 'string' },
    device: { type: 'string' },
    cv: { type: 'string' },
    classes: { type: 'string' },
    'label-map': { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    hop: { type: 'string' },
    window: { type: 'string' },
    'trial-seconds': { type: 'string' },
    json: { type: 'boolean' },
    plot: { type: 'string' },
    lenient: { type: 'boolean' },
    ...ELECTRODE_OPTIONS,
    help: { type: 'boolean' },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const paradigm = (values.paradigm ?? 'mi') as EvalParadigm;
  if (!['mi', 'p300', 'ssvep'].includes(paradigm)) throw new UsageError(`--paradigm: "${values.paradigm}" is not mi, p300 or ssvep`);
  const files = (v: string[] | undefined) => (v ?? []).flatMap((x) => x.split(',')).map((x) => x.trim()).filter(Boolean);
  const train = files(values.train);
  if (!train.length) throw new UsageError('neurox evaluate: --train is required (see: neurox evaluate --help)');
  decoderChoice('evaluate', values);
  const electrodes = loadElectrodeTable('evaluate', values);
  const frameDecoder = values.decoder === 'diver-s' ? await loadDecoder('evaluate', { ...values, paradigm }) : undefined;
  try {
    const r = await evaluate({
      frameDecoder,
      paradigm,
      train,
      test: files(values.test),
      cv: values.cv === undefined ? undefined : num('cv', values.cv, 5, (x) => Number.isInteger(x) && x >= 2),
      classes: values.classes ? values.classes.split(',').map((x) => x.trim()).filter(Boolean) : undefined,
      labelMap: values['label-map'] ? parseLabelMap(values['label-map']) : undefined,
      from: values.from === undefined ? undefined : num('from', values.from, 0.5),
      to: values.to === undefined ? undefined : num('to', values.to, 4, (x) => x > 0),
      hop: values.hop === undefined ? undefined : num('hop', values.hop, 0.08, (x) => x > 0 && x <= 2),
      window: values.window === undefined ? undefined : num('window', values.window, 1, (x) => x > 0 && x <= 30),
      trialSeconds: values['trial-seconds'] === undefined ? undefined : num('trial-seconds', values['trial-seconds'], 4, (x) => x > 0),
      lenient: values.lenient,
      mapChannels: electrodes ? (ch) => attachElectrodesToChannels(ch, electrodes).channels : undefined,
      dsp: values['bad-channels'] ? { badChannels: true } : undefined,
    });
    if (values.json) process.stdout.write(`${JSON.stringify(jsonReport(r), null, 1)}\n`);
    else process.stdout.write(textReport(r));
    if (values.plot) {
      writeFileSync(values.plot, svgReport(r));
      if (!values.json) process.stdout.write(`plot: ${values.plot}\n`);
    }
    return 0;
  } catch (e) {
    if (isInputError(e) || e instanceof EvalInputError) {
      process.stderr.write(`neurox evaluate: ${(e as Error).message}\n`);
      return 1;
    }
    throw e;
  } finally {
    await frameDecoder?.close();
  }
}
