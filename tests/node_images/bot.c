/* A STAND-IN for the bot and its coding-agent CLI in the test images (tests/node_images/openab.sh and
 * agent-broker.sh): not openab, not agent-broker, not a CLI. What it keeps of them is what the pod's lifecycle
 * depends on:
 *   - it reads the config file named by its last argument, and fails to start without it, as the bot does;
 *   - it "logs in" the way a CLI does: a login file under $HOME (STANDIN_LOGIN, a path the plugin persists),
 *     written with mode 0600 only if it is not there, so a restored login is used as it is;
 *   - it stops on the signals the real bot handles: SIGINT always (agent-broker dd7e1ca waits on tokio's
 *     ctrl_c and has no SIGTERM handler, so a SIGTERM kills it, or is dropped by the kernel when it is PID 1);
 *     built with -DSTOP_ON_SIGTERM also SIGTERM (openab v0.8.2 stops on SIGTERM). Stopping takes it two
 *     seconds (as a bot ending its agents' sessions takes a moment), then it writes `stopped` beside the login
 *     file (as a CLI saves its state on exit) and exits 0: a backup that is not ordered after the bot (a plain
 *     container instead of a native sidecar) would upload before that file exists.
 * What it prints is for the tests (tests/test_node_pods.py): who it runs as, whether / is writable, and every
 * file, folder and link it finds under $HOME at its start, with modes, sizes and an FNV-1a hash of the bytes. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <libgen.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop_signal;
static void on_stop(int signo) { stop_signal = signo; }

static size_t home_len;

static uint64_t fnv1a(const char *path) {
  uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a 64 */
  int fd = open(path, O_RDONLY | O_NOFOLLOW);
  if (fd < 0) return 0;
  unsigned char buf[65536];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0)
    for (ssize_t i = 0; i < n; i++) h = (h ^ buf[i]) * 0x100000001b3ULL;
  close(fd);
  return h;
}

static int report(const char *path, const struct stat *st, int type, struct FTW *ftw) {
  (void)ftw;
  const char *rel = path + home_len;
  if (*rel == '/') rel++;
  if (!*rel) return 0;
  unsigned mode = st->st_mode & 07777;
  if (type == FTW_SL) {
    char target[4096];
    ssize_t n = readlink(path, target, sizeof target - 1);
    target[n < 0 ? 0 : n] = 0;
    printf("standin: found link %s -> %s\n", rel, target);
  } else if (type == FTW_D || type == FTW_DNR) {
    printf("standin: found dir %s mode %04o uid %u gid %u\n", rel, mode, st->st_uid, st->st_gid);
  } else {
    printf("standin: found file %s mode %04o uid %u gid %u size %lld fnv1a %016llx\n", rel, mode, st->st_uid,
           st->st_gid, (long long)st->st_size, (unsigned long long)fnv1a(path));
  }
  return 0;
}

static int mkdirs(char *path) { /* mkdir -p with mode 0700, on a writable copy of the path */
  for (char *p = path + 1; *p; p++) {
    if (*p != '/') continue;
    *p = 0;
    if (mkdir(path, 0700) < 0 && errno != EEXIST) return -1;
    *p = '/';
  }
  return mkdir(path, 0700) < 0 && errno != EEXIST ? -1 : 0;
}

static int write_file(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return -1;
  ssize_t n = write(fd, text, strlen(text));
  return close(fd) < 0 || n != (ssize_t)strlen(text) ? -1 : 0;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  /* The signals the bot stops on, blocked until the wait below so that none is lost. */
  sigset_t stops, previous;
  sigemptyset(&stops);
  sigaddset(&stops, SIGINT);
#ifdef STOP_ON_SIGTERM
  sigaddset(&stops, SIGTERM);
#endif
  struct sigaction sa = {.sa_handler = on_stop};
  sigaction(SIGINT, &sa, NULL);
#ifdef STOP_ON_SIGTERM
  sigaction(SIGTERM, &sa, NULL);
#endif
  sigprocmask(SIG_BLOCK, &stops, &previous);

  const char *config = argc > 1 ? argv[argc - 1] : "";
  FILE *f = fopen(config, "r");
  if (!f) {
    fprintf(stderr, "standin: cannot read the config %s: %s\n", config, strerror(errno));
    return 1;
  }
  char line[256] = "";
  if (!fgets(line, sizeof line, f)) line[0] = 0;
  fclose(f);
  line[strcspn(line, "\n")] = 0;
  printf("standin: read the config %s (first line: %s)\n", config, line);

  gid_t groups[64];
  int ngroups = getgroups(64, groups);
  printf("standin: pid %d uid %u gid %u euid %u groups", getpid(), getuid(), getgid(), geteuid());
  for (int i = 0; i < ngroups; i++) printf("%s%u", i ? "," : " ", groups[i]);
  printf("\n");
  int probe = open("/.standin-probe", O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (probe >= 0) {
    close(probe);
    unlink("/.standin-probe");
    printf("standin: the root filesystem is writable\n");
  } else {
    printf("standin: the root filesystem is not writable: %s\n", strerror(errno));
  }

  const char *home = getenv("HOME");
  const char *login = getenv("STANDIN_LOGIN");
  if (!home || !login) {
    fprintf(stderr, "standin: HOME and STANDIN_LOGIN must be set\n");
    return 1;
  }
  home_len = strlen(home);
  nftw(home, report, 16, FTW_PHYS);
  char path[4096], dir[4096], text[512];
  snprintf(path, sizeof path, "%s/%s", home, login);
  snprintf(dir, sizeof dir, "%s", path);
  char *folder = dirname(dir);
  struct stat st;
  if (lstat(path, &st) == 0) {
    printf("standin: logged in already: %s\n", login);
  } else {
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    snprintf(text, sizeof text, "login of %s at %ld\n", host, (long)time(NULL));
    char made[4096];
    snprintf(made, sizeof made, "%s", folder);
    if (mkdirs(made) < 0 || write_file(path, text) < 0) {
      fprintf(stderr, "standin: cannot write the login %s: %s\n", path, strerror(errno));
      return 1;
    }
    printf("standin: logged in: wrote %s\n", login);
  }
  printf("standin: ready\n");

  while (!stop_signal) sigsuspend(&previous);
  const char *name = stop_signal == SIGTERM ? "SIGTERM" : "SIGINT";
  printf("standin: got %s, stopping\n", name);
  sleep(2);
  snprintf(path, sizeof path, "%s/stopped", folder);
  snprintf(text, sizeof text, "stopped by %s at %ld\n", name, (long)time(NULL));
  if (write_file(path, text) < 0) fprintf(stderr, "standin: cannot write %s: %s\n", path, strerror(errno));
  printf("standin: stopping on %s\n", name);
  return 0;
}
