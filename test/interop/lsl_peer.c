/*
 * An independent LSL peer for interop tests: plain C against the real liblsl,
 * none of neurox's code. Prototypes are declared here (liblsl 1.10 C API) so no
 * header is needed.
 *
 *   lsl_peer outlet <name> <format> <channels> <srate> <samples>
 *       publish deterministic samples with deterministic timestamps, then linger
 *   lsl_peer inlet <name> <samples>
 *       print "<timestamp> <v0> <v1> ..." per sample (%.17g / %.9g / ints / strings)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef void *lsl_streaminfo;
typedef void *lsl_outlet;
typedef void *lsl_inlet;
extern lsl_streaminfo lsl_create_streaminfo(const char *, const char *, int, double, int, const char *);
extern lsl_outlet lsl_create_outlet(lsl_streaminfo, int, int);
extern int lsl_wait_for_consumers(lsl_outlet, double);
extern int lsl_push_sample_ft(lsl_outlet, const float *, double);
extern int lsl_push_sample_dt(lsl_outlet, const double *, double);
extern int lsl_push_sample_it(lsl_outlet, const int *, double);
extern int lsl_push_sample_st(lsl_outlet, const short *, double);
extern int lsl_push_sample_ct(lsl_outlet, const char *, double);
extern int lsl_push_sample_strt(lsl_outlet, const char **, double);
extern int lsl_resolve_byprop(lsl_streaminfo *, unsigned, const char *, const char *, int, double);
extern lsl_inlet lsl_create_inlet(lsl_streaminfo, int, int, int);
extern int lsl_get_channel_count(lsl_streaminfo);
extern int lsl_get_channel_format(lsl_streaminfo);
extern void lsl_open_stream(lsl_inlet, double, int *);
extern double lsl_pull_sample_f(lsl_inlet, float *, int, double, int *);
extern double lsl_pull_sample_d(lsl_inlet, double *, int, double, int *);
extern double lsl_pull_sample_i(lsl_inlet, int *, int, double, int *);
extern double lsl_pull_sample_s(lsl_inlet, short *, int, double, int *);
extern double lsl_pull_sample_c(lsl_inlet, char *, int, double, int *);
extern double lsl_pull_sample_str(lsl_inlet, char **, int, double, int *);
extern void lsl_destroy_string(char *);

enum { CF_FLOAT32 = 1, CF_DOUBLE64 = 2, CF_STRING = 3, CF_INT32 = 4, CF_INT16 = 5, CF_INT8 = 6 };

static int fmt_code(const char *f) {
  if (!strcmp(f, "float32")) return CF_FLOAT32;
  if (!strcmp(f, "double64")) return CF_DOUBLE64;
  if (!strcmp(f, "string")) return CF_STRING;
  if (!strcmp(f, "int32")) return CF_INT32;
  if (!strcmp(f, "int16")) return CF_INT16;
  if (!strcmp(f, "int8")) return CF_INT8;
  fprintf(stderr, "unknown format %s\n", f);
  exit(2);
}

/* The same formulas are in interop.test.ts: values are exact in every format. */
static double value(long i, int c) { return (double)((i * 7 + c * 3) % 200) - 100.0 + (c % 4) * 0.25; }
static double stamp(long i) { return 1000.123456789 + (double)i / 512.0 + (i % 3) * 1e-7; }

static int outlet(const char *name, int fmt, int nch, double srate, long n) {
  lsl_streaminfo info = lsl_create_streaminfo(name, "Interop", nch, srate, fmt, name);
  lsl_outlet out = lsl_create_outlet(info, 0, 360);
  if (!lsl_wait_for_consumers(out, 30.0)) { fprintf(stderr, "no consumer\n"); return 1; }
  usleep(300000); /* let the inlet finish subscribing */
  float f[256]; double d[256]; int iv[256]; short s[256]; char cv[256]; char *strs[256]; char buf[256][32];
  for (long i = 0; i < n; i++) {
    for (int c = 0; c < nch; c++) {
      double v = value(i, c);
      f[c] = (float)v; d[c] = v + 1e-9 * c; iv[c] = (int)(v * 4) * 1000; s[c] = (short)(v * 4); cv[c] = (char)((int)v % 100);
      snprintf(buf[c], sizeof buf[c], "s%ld_%d_\xc3\xa4", i, c); strs[c] = buf[c];
    }
    double ts = stamp(i);
    switch (fmt) {
      case CF_FLOAT32: lsl_push_sample_ft(out, f, ts); break;
      case CF_DOUBLE64: lsl_push_sample_dt(out, d, ts); break;
      case CF_INT32: lsl_push_sample_it(out, iv, ts); break;
      case CF_INT16: lsl_push_sample_st(out, s, ts); break;
      case CF_INT8: lsl_push_sample_ct(out, cv, ts); break;
      case CF_STRING: lsl_push_sample_strt(out, (const char **)strs, ts); break;
    }
    if (i % 64 == 63) usleep(2000);
  }
  printf("done\n");
  fflush(stdout);
  sleep(3); /* keep the outlet alive while the consumer drains */
  return 0;
}

static int inlet(const char *name, long n) {
  lsl_streaminfo infos[4];
  if (lsl_resolve_byprop(infos, 4, "name", name, 1, 30.0) < 1) { fprintf(stderr, "stream %s not found\n", name); return 1; }
  int nch = lsl_get_channel_count(infos[0]), fmt = lsl_get_channel_format(infos[0]), ec = 0;
  lsl_inlet in = lsl_create_inlet(infos[0], 360, 0, 1);
  lsl_open_stream(in, 30.0, &ec);
  printf("ready\n");
  fflush(stdout);
  float f[256]; double d[256]; int iv[256]; short s[256]; char cv[256]; char *strs[256];
  for (long i = 0; i < n; i++) {
    double ts = 0;
    switch (fmt) {
      case CF_FLOAT32: ts = lsl_pull_sample_f(in, f, nch, 30.0, &ec); break;
      case CF_DOUBLE64: ts = lsl_pull_sample_d(in, d, nch, 30.0, &ec); break;
      case CF_INT32: ts = lsl_pull_sample_i(in, iv, nch, 30.0, &ec); break;
      case CF_INT16: ts = lsl_pull_sample_s(in, s, nch, 30.0, &ec); break;
      case CF_INT8: ts = lsl_pull_sample_c(in, cv, nch, 30.0, &ec); break;
      case CF_STRING: ts = lsl_pull_sample_str(in, strs, nch, 30.0, &ec); break;
    }
    if (ts == 0.0) { fprintf(stderr, "timeout at sample %ld (ec %d)\n", i, ec); return 1; }
    printf("%.17g", ts);
    for (int c = 0; c < nch; c++) {
      switch (fmt) {
        case CF_FLOAT32: printf(" %.9g", f[c]); break;
        case CF_DOUBLE64: printf(" %.17g", d[c]); break;
        case CF_INT32: printf(" %d", iv[c]); break;
        case CF_INT16: printf(" %d", s[c]); break;
        case CF_INT8: printf(" %d", cv[c]); break;
        case CF_STRING: printf(" %s", strs[c]); lsl_destroy_string(strs[c]); break;
      }
    }
    printf("\n");
  }
  fflush(stdout);
  return 0;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOFBF, 1 << 16);
  if (argc >= 7 && !strcmp(argv[1], "outlet")) return outlet(argv[2], fmt_code(argv[3]), atoi(argv[4]), atof(argv[5]), atol(argv[6]));
  if (argc >= 4 && !strcmp(argv[1], "inlet")) return inlet(argv[2], atol(argv[3]));
  fprintf(stderr, "usage: lsl_peer outlet <name> <format> <channels> <srate> <samples> | inlet <name> <samples>\n");
  return 2;
}
