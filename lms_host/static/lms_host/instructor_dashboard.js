/* The stand-in of the LMS's instructor_dashboard.js section switching: the nav shows one
   section at a time; a click shows its section and sets the hash to #view-<section_key>, and a
   page opened with such a hash shows that section (else the one the server marked active). */
(function () {
    'use strict';
    var PREFIX = '#view-';
    var nav = document.querySelectorAll('.instructor-nav .btn-link');

    function show(name) {
        var section = document.getElementById(name);
        if (!section || !section.classList.contains('idash-section')) {
            return false;
        }
        nav.forEach(function (link) {
            var active = link.getAttribute('data-section') === name;
            link.classList.toggle('active-section', active);
            if (active) { link.setAttribute('aria-current', 'page'); } else { link.removeAttribute('aria-current'); }
        });
        document.querySelectorAll('.idash-section').forEach(function (other) {
            other.classList.toggle('active-section', other === section);
        });
        return true;
    }

    nav.forEach(function (link) {
        link.addEventListener('click', function (event) {
            event.preventDefault();
            var name = link.getAttribute('data-section');
            show(name);
            window.location.hash = PREFIX + name;
        });
    });
    if (window.location.hash.indexOf(PREFIX) === 0) {
        show(window.location.hash.slice(PREFIX.length));
    }
}());
