/* Crashes with SIGSEGV; its signal handler has crashpad_handler write a minidump of it. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

struct ExceptionInformation { uint64_t siginfo_address; uint64_t context_address; pid_t thread_id; };
static struct ExceptionInformation info;
static const char *handler_path, *database;

static void on_crash(int sig, siginfo_t *si, void *ctx) {
  info.siginfo_address = (uint64_t)(uintptr_t)si;
  info.context_address = (uint64_t)(uintptr_t)ctx;
  info.thread_id = (pid_t)syscall(SYS_gettid);
  char arg[64], db[4096];
  snprintf(arg, sizeof arg, "--trace-parent-with-exception=%llu", (unsigned long long)(uintptr_t)&info);
  snprintf(db, sizeof db, "--database=%s", database);
  pid_t child = fork();
  if (child == 0) {
    execl(handler_path, handler_path, arg, db, "--no-periodic-tasks", "--annotation=prod=crashdemo", "--annotation=ver=1.2.3", (char *)NULL);
    _exit(127);
  }
  prctl(PR_SET_PTRACER, child, 0, 0, 0);
  int status;
  waitpid(child, &status, 0);
  signal(sig, SIG_DFL);
  raise(sig);
}

__attribute__((noinline)) void write_through_null(volatile int *where) { *where = 42; }

int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: crash HANDLER DATABASE\n"); return 2; }
  handler_path = argv[1]; database = argv[2];
  struct sigaction sa; memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_crash; sa.sa_flags = SA_SIGINFO;
  sigaction(SIGSEGV, &sa, NULL);
  write_through_null((volatile int *)0);
  return 0;
}
