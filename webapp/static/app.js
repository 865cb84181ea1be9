// Small progressive enhancements; the site works without JavaScript.
"use strict";
