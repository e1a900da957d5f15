// SPDX-License-Identifier: MIT
// home.js - the start page sends each person to where their work is: seniors to the review
// list, everyone else to the jobs (an engineer's own).

import { me } from './api.js';
import { pageError } from './ui.js';

me().then(user => {
    location.replace(user.role === 'senior' ? '/ui/review.html' : '/ui/jobs.html');
}, pageError);
