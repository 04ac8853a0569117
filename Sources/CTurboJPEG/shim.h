#ifndef LFOSA_CTURBOJPEG_SHIM_H
#define LFOSA_CTURBOJPEG_SHIM_H
#include <stdio.h>
#include <turbojpeg.h>
#endif
