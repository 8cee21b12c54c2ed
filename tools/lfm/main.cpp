// The `lfm` command: a thin dispatcher over subcommands, each in its own file.
#include <cstdio>
#include <cstring>
#include <string>

int main(int argc, char** argv) {
  std::printf("lfm.cpp\n");
  return 0;
}
