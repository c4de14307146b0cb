/*
 * citaplanner — appointment booking for spas and salons, with a persistence
 * system that never loses data.  main() hands the command line to cmd_main()
 * (cmd/cmd.c), which finds the command, parses its flags and configuration,
 * runs it and maps its error to an exit status.
 */
#include "cmd/cmd.h"

int main(int argc, char **argv)
{
    return cmd_main(argc, argv);
}
