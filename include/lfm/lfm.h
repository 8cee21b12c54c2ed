// lfm.cpp public API: include this one header.
#pragma once

#include "lfm/admission.h"
#include "lfm/chat.h"
#include "lfm/engine.h"
#include "lfm/inspect.h"
#include "lfm/sampling.h"
#include "lfm/status.h"
#include "lfm/task.h"
